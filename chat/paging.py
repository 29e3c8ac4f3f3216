"""Cursor paging by id: cursors are opaque to clients and say where the next page starts."""

from __future__ import annotations

import base64
import binascii

from chat.errors import Invalid

MAX_LIMIT = 200
_PREFIX = "before:"


def encode_cursor(before_id: int) -> str:
    """A cursor for the page of rows whose id is below `before_id`."""
    raw = f"{_PREFIX}{before_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor from `encode_cursor` holds; anything else is an `Invalid` cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    number = raw.removeprefix(_PREFIX)
    if not raw.startswith(_PREFIX) or not number.isascii() or not number.isdigit():
        raise Invalid("cursor", "this cursor was not given out by Parley; start again without it")
    return int(number)


def check_limit(limit: int) -> int:
    """`limit` if it is a page size Parley serves (1 to MAX_LIMIT), else `Invalid`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    return limit
