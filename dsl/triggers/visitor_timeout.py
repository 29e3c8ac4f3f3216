"""`visitor_timeout`: the visitor has not answered an agent's (or another flow's) message
for `after`; only for the listed new or returning `visitors`, and optionally counting
agents' replies sent outside Parley (`off_platform`). See docs/engine.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsl.triggers.kind import Seen, TriggerKind, options

if TYPE_CHECKING:
    from dsl.model import Trigger


def _not_listed(trigger: Trigger, seen: Seen) -> str | None:
    visitor = "new" if seen.is_new else "returning"
    if visitor in trigger.visitors:
        return None
    return f"{visitor} visitor not in [{', '.join(sorted(trigger.visitors))}]"


KIND = TriggerKind(
    name="visitor_timeout",
    options=options(
        required=("after",),
        after={"$ref": "#/definitions/duration"},
        visitors={
            "type": "array",
            "items": {"enum": ["new", "returning"]},
            "minItems": 1,
            "uniqueItems": True,
        },
        off_platform={"type": "boolean"},
    ),
    silence_clock=True,
    bare=False,
    durations=("after",),
    refuses=_not_listed,
)
