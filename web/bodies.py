"""Request bodies: JSON objects checked against a JSON Schema before a handler reads them."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from flask import request

from chat.conversations import CLIENT_ID
from chat.values import TAG_MAX
from web.errors import ApiError

# No body or query text may hold NUL (no database stores it); text that must say something
# needs a character that `str.strip()` keeps. The spaces are listed one by one (as \uXXXX,
# which every regex dialect reads alike) because `\s` means other characters in other ones.
_SPACES = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if c.isspace())
NO_NUL = "^[^\\u0000]*$"
FILLED = f"^[^\\u0000]*[^\\u0000{_SPACES}][^\\u0000]*$"
BLANK = {"type": "string", "maxLength": 320, "pattern": f"^[{_SPACES}]*$"}  # "" or spaces


def text(max_length: int, *, blank: bool = False) -> dict[str, Any]:
    """A text field of at most `max_length` characters without NUL; unless `blank` may be
    empty or spaces, with something else in it."""
    if blank:
        return {"type": "string", "maxLength": max_length, "pattern": NO_NUL}
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": FILLED}


def or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null."""
    return {"anyOf": [schema, {"type": "null"}]}


_TEXT = text(2000)  # Messenger's limit too
TAG = text(TAG_MAX)  # a conversation's tag
# A message someone writes: the visitor in the widget, an agent replying.
TEXT_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {"text": _TEXT},
}
# `client_id`, chosen by the client for each message and sent again with it when a call is
# retried, makes the retry store (and send) nothing twice.
_CLIENT_ID = {"type": "string", "pattern": f"^{CLIENT_ID.pattern}$"}  # as the chat layer checks
# The visitor writes in the widget.
WIDGET_MESSAGE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {"text": _TEXT, "client_id": _CLIENT_ID},
}
# An agent's reply: on Messenger past 7 days, with a message tag from the allowed list.
REPLY_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {"text": _TEXT, "tag": text(40), "client_id": _CLIENT_ID},
}


@functools.cache
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_json))


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """The request's JSON body, valid against `schema`; else a 400/422 naming the field.
    Without a body: a 422 if `required`, else the empty object."""
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise ApiError(400, "bad_json", "the body is not JSON", None)
    if body is None and required:
        raise ApiError(422, "invalid", "the request needs a JSON body", None)
    return checked_body(schema, {} if body is None else body)


def checked_body(schema: dict[str, Any], body: Any) -> dict[str, Any]:
    """`body` if valid against `schema` (the console checks its forms by the API's schemas);
    else a 422 naming the field, with the message the API gives."""
    _refuse_nul(body, "")  # before the schema, whose patterns say so less plainly
    validator = _validator(json.dumps(schema, sort_keys=True))
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        field = ".".join(str(p) for p in error.absolute_path) or _missing(error) or None
        raise ApiError(422, "invalid", error.message, field)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid", "the body must be a JSON object", None)
    whole: dict[str, Any] = _whole(body)
    return whole


def refuse_nul_in_request() -> None:
    """Refuse NUL characters in query parameters and headers (no database stores them)."""
    for name, value in [*request.args.items(), *request.headers.items()]:
        if "\x00" in value:
            raise ApiError(422, "invalid", f"{name} contains a NUL character", name)


def _refuse_nul(value: Any, path: str) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ApiError(422, "invalid", "text may not contain NUL characters", path or None)
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, path)
            _refuse_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{path}[{index}]")


def _whole(value: Any) -> Any:
    """`value` with every integral float a whole number: JSON has one kind of number, and
    JSON Schema counts 3.0 as the integer 3, so the handlers get 3."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole(item) for item in value]
    return value


def _missing(error: jsonschema.ValidationError) -> str | None:
    if error.validator == "required":  # "'text' is a required property" names the field
        return error.message.split("'")[1]
    if error.validator == "additionalProperties":
        return error.message.split("'")[1]
    return None
