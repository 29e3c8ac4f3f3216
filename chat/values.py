"""Checking values that arrive from requests: each bad one is an `Invalid` naming its field.

The web layer passes JSON values through as they came, so these checks do not trust the
annotations: a `true` where an id belongs, or a naive time, is refused here with a message.
"""

from __future__ import annotations

from datetime import datetime

from chat.errors import Invalid

TAG_MAX = 64


def clean_tag(field: str, raw: object) -> str:
    """The tag stripped; `Invalid` when it is blank, not text, or over TAG_MAX characters as
    given (the API's schema counts them so, spaces around it included)."""
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        raise Invalid(field, f"a tag is some text, not {raw!r}")
    if isinstance(raw, str) and len(raw) > TAG_MAX:
        raise Invalid(field, f"a tag has at most {TAG_MAX} characters; {value[:20]!r}... has more")
    return value


def one_of(field: str, value: object, allowed: tuple[str, ...]) -> str:
    """`value` if it is one of `allowed`, else `Invalid` listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise Invalid(field, f"{field} is one of {', '.join(allowed)}, not {value!r}")
    return value


def whole_number(field: str, value: object) -> int:
    """`value` if it is an int (and not a bool, which Python counts as one), else `Invalid`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(field, f"{field} is a whole number, not {value!r}")
    return value


def aware_time(field: str, value: object) -> datetime:
    """`value` if it is a datetime with a timezone, else `Invalid`."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid(field, f"{field} needs a date and time with a timezone, not {value!r}")
    return value
