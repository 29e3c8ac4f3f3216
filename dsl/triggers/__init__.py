"""Trigger kinds: what starts a flow, one module each, as Home Assistant has trigger platforms.

A kind's module gives its options' JSON Schema, the engine events that start it (or the
silence clock, for `visitor_timeout`), the quiet filter an event must pass (keywords) and
the check whose refusal the trace notes (new or returning visitors). The flow schema's
`trigger` section (`dsl.structure.flow_schema`), the semantic checks and the engine's
runtime all read `KINDS`, so a new kind is one module listed here, plus its docs and tests;
`parley schema > dsl/flow.schema.json` writes it into the schema file editors read.
"""

from __future__ import annotations

from collections.abc import Mapping

from dsl.triggers import conversation_started, message_received, visitor_timeout
from dsl.triggers.kind import Seen, TriggerKind

__all__ = ["KINDS", "Seen", "TriggerKind"]

KINDS: Mapping[str, TriggerKind] = {
    module.KIND.name: module.KIND
    for module in (conversation_started, message_received, visitor_timeout)
}
