"""Query-string values, parsed or refused with a 422 that names the parameter."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

from flask import request

from web.errors import ApiError

MAX_ID = 2**53  # ids and counts beyond this fit no database column and no JSON number
SEARCH_MAX = 200  # characters of a search or filter text
VERSION_MAX = 100  # characters of a flow version
_DAY = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")  # RFC 3339's full-date (then a real one)


def int_arg(name: str, default: int | None = None, low: int = 0, high: int = MAX_ID) -> int | None:
    """A whole number from `?name=`, within [low, high]; `default` when absent."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 16) or not low <= int(raw) <= high:
        raise ApiError(422, "invalid", f"{name} must be a whole number from {low} to {high}", name)
    return int(raw)


def time_arg(name: str) -> datetime | None:
    """An ISO 8601 date and time with a timezone from `?name=` (e.g. 2026-11-25T09:00:00Z)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value: datetime | None = datetime.fromisoformat(raw)
        if value is not None and value.tzinfo is not None:
            value.astimezone(UTC)  # year 1 or 9999 with an offset has no UTC time
    except (ValueError, OverflowError):
        value = None
    if value is None or value.tzinfo is None:
        message = f"{name} must be an ISO 8601 time with a timezone, like 2026-11-25T09:00:00Z"
        raise ApiError(422, "invalid", message, name)
    return value


def number_arg(name: str) -> float | None:
    """A finite number from `?name=`."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ApiError(422, "invalid", f"{name} must be a number", name)
    return value


def text_arg(name: str, max_length: int) -> str | None:
    """Text from `?name=` of at most `max_length` characters (NUL is refused for every
    parameter before a handler runs)."""
    raw = request.args.get(name)
    if raw is not None and len(raw) > max_length:
        raise ApiError(422, "invalid", f"{name} has at most {max_length} characters", name)
    return raw


def day_args(name: str) -> list[str] | None:
    """Days (YYYY-MM-DD) from every `?name=`; None when there is none."""
    days = request.args.getlist(name)
    for day in days:
        try:
            if not _DAY.fullmatch(day):
                raise ValueError(day)
            date.fromisoformat(day)  # a real day: not 2026-02-30
        except ValueError as err:
            message = f"{name} must be a day such as 2026-11-25"
            raise ApiError(422, "invalid", message, name) from err
    return days or None
