"""Cursor paging: cursors are opaque to clients and say where the next page starts.

Lists ordered by id alone carry the last id (`encode_cursor`); lists ordered by a time and then
the id carry both (`encode_position`), so a page starts exactly after the row that ended the
last one even when many rows share a time.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from chat.errors import Invalid

MAX_LIMIT = 200
_PREFIX = "before:"
_POSITION_PREFIX = "at:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(before_id: int) -> str:
    """A cursor for the page of rows whose id is below `before_id`."""
    return _encode(f"{_PREFIX}{before_id}")


def decode_cursor(cursor: str) -> int:
    """The id a cursor from `encode_cursor` holds; anything else is an `Invalid` cursor."""
    number = _decode(cursor, _PREFIX)
    if not _is_number(number):
        raise _foreign()
    return int(number)


def encode_position(at: datetime, row_id: int) -> str:
    """A cursor for the rows after (`at`, `row_id`) in an order by time, then id, descending."""
    # Whole microseconds since the epoch: exact, unlike a float timestamp.
    micros = (at - _EPOCH) // _MICROSECOND
    return _encode(f"{_POSITION_PREFIX}{micros}:{row_id}")


def decode_position(cursor: str) -> tuple[datetime, int]:
    """The time (aware, UTC) and id a cursor from `encode_position` holds; else `Invalid`."""
    micros, _, row_id = _decode(cursor, _POSITION_PREFIX).partition(":")
    if not (_is_number(micros) and _is_number(row_id)):
        raise _foreign()
    try:
        return _EPOCH + int(micros) * _MICROSECOND, int(row_id)
    except (OverflowError, ValueError) as error:
        raise _foreign() from error


def check_limit(limit: int) -> int:
    """`limit` if it is a page size Parley serves (1 to MAX_LIMIT), else `Invalid`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def _encode(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, prefix: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(prefix):
        raise _foreign()
    return raw.removeprefix(prefix)


def _is_number(text: str) -> bool:
    # at most 16 digits: ids stay below 2**53 and no int() meets Python's digit limit
    return text.isascii() and text.isdigit() and len(text) <= 16


def _foreign() -> Invalid:
    return Invalid("cursor", "this cursor was not given out by Parley; start again without it")
