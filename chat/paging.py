"""Cursor paging: cursors say where the next page starts; clients pass them back as given.

Lists ordered by id alone carry the last id (`encode_cursor`: `1234`); lists ordered by a time
and then the id carry both (`encode_position`: `<microseconds since 1970>.<id>`), so a page
starts exactly after the row that ended the last one even when many rows share a time.
Every string of these shapes (`CURSOR`, `POSITION`: what the API documents) is a place in the
list, so the API refuses only cursors of another shape.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from chat.errors import Invalid

MAX_LIMIT = 200
# at most 16 digits: ids stay below 2**53, times below the year 2286
CURSOR = "^[0-9]{1,16}$"
POSITION = "^[0-9]{1,16}[.][0-9]{1,16}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(before_id: int) -> str:
    """A cursor for the page of rows whose id is below `before_id`."""
    return str(before_id)


def decode_cursor(cursor: str) -> int:
    """The id a cursor from `encode_cursor` holds; anything else is an `Invalid` cursor."""
    if not re.search(CURSOR, cursor):  # as the schema checks it
        raise _foreign()
    return int(cursor)


def encode_position(at: datetime, row_id: int) -> str:
    """A cursor for the rows after (`at`, `row_id`) in an order by time, then id, descending."""
    # Whole microseconds since the epoch: exact, unlike a float timestamp.
    micros = (at - _EPOCH) // _MICROSECOND
    return f"{micros}.{row_id}"


def decode_position(cursor: str) -> tuple[datetime, int]:
    """The time (aware, UTC) and id a cursor from `encode_position` holds; else `Invalid`."""
    if not re.search(POSITION, cursor):
        raise _foreign()
    micros, _, row_id = cursor.partition(".")
    return _EPOCH + int(micros) * _MICROSECOND, int(row_id)


def check_limit(limit: int) -> int:
    """`limit` if it is a page size Parley serves (1 to MAX_LIMIT), else `Invalid`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit


def _foreign() -> Invalid:
    return Invalid("cursor", "this cursor was not given out by Parley; start again without it")
