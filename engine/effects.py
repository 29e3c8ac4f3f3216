"""What applying one event produced: commands out, counter moves, timers, trace lines.

Applying an event is pure: it changes a `VisitorState` in memory and collects `Effects`.
The store then writes state and effects in one atomic step, so a counter never moves
without the state that explains it, and a redelivered event moves nothing twice.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from engine.codec import dumps
from engine.state import FunnelRecord, Timer

# The commands that send the visitor a bot message.
MESSAGE_COMMANDS = frozenset({"say", "ask", "promo_card"})


_EPOCH = dt.date(1970, 1, 1)


def day_of(at: float) -> str:
    """The UTC day of a timestamp, as the funnel's counters are kept: `2026-11-25`."""
    return _day(int(at // 86_400))


@functools.lru_cache(maxsize=64)
def _day(number: int) -> str:  # every event asks; a datetime per event was 3% of its CPU
    return (_EPOCH + dt.timedelta(days=number)).isoformat()


@dataclass(frozen=True, slots=True)
class Command:
    """One thing the chat layer must do; `key` makes a second delivery harmless."""

    key: str
    kind: str
    visitor_id: str
    conversation_id: str
    flow: str
    args: dict[str, Any]

    def to_json(self) -> bytes:
        """The command as JSON, as it goes out on the command stream: its fields in order."""
        return dumps(self)


@dataclass(frozen=True, slots=True)
class CounterMove:
    """Add `delta` to counter `name` of `flow` on `day`."""

    flow: str
    day: str
    name: str
    delta: int = 1


@dataclass(slots=True)
class Effects:
    """Everything one event produced, waiting to be committed with the state."""

    event_id: str
    commands: list[Command] = field(default_factory=list)
    counters: list[CounterMove] = field(default_factory=list)
    funnel: dict[str, FunnelRecord] = field(default_factory=dict)
    timers: list[tuple[bool, Timer]] = field(default_factory=list)  # (added?, timer), in order
    trace: list[dict[str, Any]] = field(default_factory=list)
    earlier_traces: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    forget: list[str] = field(
        default_factory=list
    )  # flows whose drill-down row of the visitor goes
    forgotten: bool = False  # the visitor was forgotten: their trace goes, none is written

    def trace_records(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(event id, trace lines) of every event these effects hold, oldest first."""
        own = [(self.event_id, self.trace)] if self.trace else []
        return [*self.earlier_traces, *own]

    def absorb(self, later: Effects) -> None:
        """Append the effects of a later event of the same visitor (batched commits)."""
        self.commands += later.commands
        self.counters += later.counters
        self.funnel.update(later.funnel)
        self.timers += later.timers
        self.earlier_traces += later.trace_records()
        self.forget += later.forget
        self.forgotten = self.forgotten or later.forgotten

    def command(
        self, kind: str, visitor_id: str, conversation_id: str, flow: str, args: dict[str, Any]
    ) -> None:
        """Queue a command; its key is unique per event and position, hence idempotent."""
        key = f"{visitor_id}:{self.event_id}:{len(self.commands)}"
        self.commands.append(Command(key, kind, visitor_id, conversation_id, flow, args))

    def note(self, path: str, what: str, **details: Any) -> None:
        """Add a trace line: where (`win-back:steps.nudge.do[1]`) and what happened."""
        self.trace.append({"path": path, "what": what, **details})
