"""What flow expressions may read and call: the fields of each root, their types, the functions.

The vocabulary is closed on purpose: a flow can only see what is listed here, so `parley check`
can catch a misspelt field before a flow ever runs, and the evaluator never reaches past it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, NamedTuple

Type = Literal["string", "number", "bool", "null", "list", "any"]

VARS_ROOT = "vars"
"""The root of flow variables: open, any field name, each of type `any`."""


def _frozen(fields: dict[str, Type]) -> Mapping[str, Type]:
    return MappingProxyType(fields)


FIELDS: Mapping[str, Mapping[str, Type]] = MappingProxyType(
    {
        "contact": _frozen(
            {
                "id": "string",
                "name": "string",
                "remark_name": "string",
                "display_name": "string",
                "email": "string",
                "phone": "string",
                "channel": "string",
                "tags": "list",
            }
        ),
        "conversation": _frozen(
            {
                "id": "string",
                "status": "string",
                "state": "string",
                "assignee": "string",
                "tags": "list",
            }
        ),
        "visitor": _frozen({"id": "string", "is_new": "bool"}),
        "message": _frozen({"text": "string"}),
        # Flow variables are open-ended, so no field is listed; `field_type` accepts any name.
        VARS_ROOT: _frozen({}),
    }
)
"""Root -> field -> type. `vars` is open: every name under it is allowed, with type `any`."""


class Signature(NamedTuple):
    """A function's accepted argument types, position by position, and its result type."""

    params: tuple[tuple[Type, ...], ...]
    result: Type


FUNCTIONS: Mapping[str, Signature] = MappingProxyType(
    {
        "lower": Signature((("string",),), "string"),
        "upper": Signature((("string",),), "string"),
        "len": Signature((("string", "list"),), "number"),
        "now": Signature((), "number"),
    }
)
"""Function name -> signature. `now()` is seconds since the epoch from the evaluator's clock."""


def field_type(path: tuple[str, ...]) -> Type | None:
    """The type of a dotted field path, or None when flows may not read it."""
    if len(path) < 2:
        return None
    root = path[0]
    if root == VARS_ROOT:
        return "any"
    fields = FIELDS.get(root)
    if fields is None or len(path) != 2:
        return None
    return fields.get(path[1])
