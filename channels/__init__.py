"""Channels: how Parley reaches people outside the API (email so far)."""
