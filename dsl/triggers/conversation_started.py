"""`conversation_started`: the visitor opens a conversation (a widget visitor's first
message, a Messenger visitor's first contact)."""

from __future__ import annotations

from dsl.triggers.kind import TriggerKind, options

KIND = TriggerKind(
    name="conversation_started",
    options=options(),
    starts_on=frozenset({"conversation.started"}),
)
