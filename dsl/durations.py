"""Durations as authors write them (`30s`, `15m`, `2h`, `7d`, `1h30m`), in seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"\s*([0-9]+)\s*([dhms])\s*")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """Seconds in `text`; raises ValueError for anything but number-unit pairs."""
    position, total = 0, 0
    while position < len(text):
        match = _PART.match(text, position)
        if not match:
            raise ValueError(f"'{text}' is not a duration; write 30s, 15m, 2h, 7d or 1h30m")
        total += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0:
        raise ValueError("a duration needs a number and a unit, such as 15m")
    return total


def format_duration(seconds: int) -> str:
    """The shortest author-style spelling of `seconds`: 5400 -> `1h30m`."""
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
