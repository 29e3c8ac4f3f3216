"""The engine's ports: the few interfaces through which it meets the world.

The engine imports no Flask and no SQL. It reads time from a `Clock`, and hands commands
out through Redis streams that the chat layer consumes (see `engine/keys.py`).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where the engine reads the time, in seconds since the epoch."""

    def now(self) -> float:
        """The current time."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        """The current wall-clock time."""
        return time.time()


class ManualClock:
    """A virtual clock for tests and the simulator: time moves only when told to."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        """The virtual time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the virtual time forward."""
        self._now += seconds
