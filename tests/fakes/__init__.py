"""Fakes of outside services that Parley talks to, served for real on loopback."""
