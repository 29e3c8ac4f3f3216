"""What a trigger kind is made of (each kind is a module beside this one; see __init__)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsl.model import Trigger


@dataclass(frozen=True, slots=True)
class Seen:
    """What a trigger's checks may know of the event: the words of the visitor's message
    (lower case, one space around each: ` talk to a person `) and whether they are new."""

    words: str
    is_new: bool


def _always(trigger: Trigger, seen: Seen) -> bool:
    return True


def _never(trigger: Trigger, seen: Seen) -> str | None:
    return None


def options(*, required: tuple[str, ...] = (), **own: Any) -> dict[str, Any]:
    """The JSON Schema of a kind's options: its `own`, between the `when` guard and the
    conversation `states` every kind takes."""
    properties = {"when": {"$ref": "#/definitions/expression"}, **own}
    found: dict[str, Any] = {
        "properties": {**properties, "states": {"$ref": "#/definitions/states"}}
    }
    if required:
        found["required"] = list(required)
    return found


@dataclass(frozen=True, slots=True)
class TriggerKind:
    """One kind of trigger."""

    name: str
    options: Mapping[str, Any]  # the JSON Schema of its options' mapping
    starts_on: frozenset[str] = frozenset()  # engine events that start it
    silence_clock: bool = False  # started by the visitor's silence after an agent's message
    bare: bool = True  # may be written with no options (`conversation_started:`)
    durations: tuple[str, ...] = ()  # options that are durations, checked for their range
    matches: Callable[[Trigger, Seen], bool] = _always  # quietly passed over when False
    refuses: Callable[[Trigger, Seen], str | None] = _never  # why not, noted in the trace

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of `trigger: {<name>: ...}`'s value."""
        options = {"type": "object", **self.options, "additionalProperties": False}
        if not self.bare:
            return options
        names = ", ".join(options["properties"])
        return {
            "anyOf": [{"type": "null"}, options],
            "title": "trigger options",
            "description": f"empty or a mapping of options ({names})",
        }
