"""Parley's flow engine: applies events to compiled flows per visitor (see engine/README.md)."""
