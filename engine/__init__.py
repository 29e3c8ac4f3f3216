"""Parley's flow engine (see engine/README.md); it is built in the engine issue."""
