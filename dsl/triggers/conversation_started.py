"""`conversation_started`: the visitor opens a conversation (a widget visitor's first
message, a Messenger visitor's first contact)."""

from __future__ import annotations

from dsl.triggers.kind import TriggerKind

KIND = TriggerKind(
    name="conversation_started",
    options={
        "properties": {
            "when": {"$ref": "#/definitions/expression"},
            "states": {"$ref": "#/definitions/states"},
        }
    },
    starts_on=frozenset({"conversation.started"}),
)
