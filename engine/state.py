"""A visitor's state as versioned JSON: facts, flow runs, timers, funnel records.

Never pickled, never a class path: `STATE_VERSION` names the layout, and `from_json`
refuses layouts it does not know instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from engine.codec import dumps
from engine.errors import EngineError

STATE_VERSION = 1
# A visitor's applied event ids are kept this long after the newest of them, so a redelivery
# within it (a Meta retry comes within the hour, the outbox's relay within seconds, a stream
# entry claimed from a dead worker within minutes) is recognised however many events came in
# between; SEEN_MAX bounds a state that takes an event flood all the same.
SEEN_HORIZON = 24 * 3600.0
SEEN_MAX = 5_000
UNSTAMPED = -1.0  # an id of a state written before ids were stamped

TimerKind = Literal["silence", "step", "wait", "notify", "gap"]


@dataclass(slots=True)
class Run:
    """One run of one flow for this visitor."""

    flow: str
    version: str
    number: int  # counts this visitor's runs of the flow; stale button clicks are recognised
    step: str
    started: float
    conversation_id: str
    vars: dict[str, Any] = field(default_factory=dict)
    retries: int = 0  # answers still allowed at the current ask step
    active: bool = True
    outcome: str = ""  # completed, or why the run stopped


@dataclass(slots=True)
class Timer:
    """A pending timer; it lives in the visitor's state and in its shard's schedule."""

    key: str  # `<kind>:<flow>`: one timer of each kind per flow
    due: float
    generation: int
    kind: TimerKind
    flow: str


@dataclass(slots=True)
class FunnelRecord:
    """What one visitor did in one flow, for the funnel and its per-visitor drill-down."""

    first: float
    last: float
    channel: str
    conversation_id: str
    triggers: int = 0
    engaged: bool = False
    completed: bool = False
    counted: list[str] = field(default_factory=list)  # counters this visitor already moved
    cohorts: dict[str, str] = field(default_factory=dict)  # scope -> day of first trigger

    @property
    def status(self) -> str:
        """completed, engaged or not_engaged."""
        if self.completed:
            return "completed"
        return "engaged" if self.engaged else "not_engaged"


@dataclass(slots=True)
class VisitorState:
    """Everything the engine remembers about one visitor."""

    visitor_id: str
    facts: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    funnel: dict[str, FunnelRecord] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)  # event id -> when it was applied
    generation: int = 0  # the last timer generation handed out
    # when the visitor's unanswered messages began (None: an agent has answered them); a
    # field added later, with a default, so states written before it still read
    waiting_since: float | None = None
    # bot messages handed to the chat layer and not yet reported sent: command key -> when
    sending: dict[str, float] = field(default_factory=dict)
    seq: int = 0  # the last of the chat layer's numbered events applied (0: none yet)
    held: dict[str, dict[str, Any]] = field(default_factory=dict)  # seq -> an early event
    forgotten: bool = False  # deleted for a privacy request: a tombstone, every event ignored

    def to_json(self) -> bytes:
        """The state as JSON, stamped with its layout version."""
        # orjson writes the dataclasses itself, in field order: the json module and a dict
        # per object took a fifth of an event's CPU
        data = {
            "layout": STATE_VERSION,
            "visitor_id": self.visitor_id,
            "facts": self.facts,
            "runs": self.runs,
            "timers": self.timers,
            "funnel": self.funnel,
            "seen": self.seen,
            "generation": self.generation,
            "waiting_since": self.waiting_since,
            "sending": self.sending,
            "seq": self.seq,
            "held": self.held,
            "forgotten": self.forgotten,
        }
        return dumps(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> VisitorState:
        """Read a state written by `to_json`; refuses an unknown layout."""
        data = orjson.loads(text)
        if data.pop("layout", None) != STATE_VERSION:
            raise EngineError("visitor state has an unknown layout; refusing to guess")
        return cls(
            visitor_id=data["visitor_id"],
            facts=data["facts"],
            runs={k: Run(**v) for k, v in data["runs"].items()},
            timers={k: Timer(**v) for k, v in data["timers"].items()},
            funnel={k: FunnelRecord(**v) for k, v in data["funnel"].items()},
            seen=_seen(data["seen"]),
            generation=data["generation"],
            waiting_since=data.get("waiting_since"),
            sending=data.get("sending", {}),
            seq=data.get("seq", 0),
            held=data.get("held", {}),
            forgotten=data.get("forgotten", False),
        )

    def remember(self, event_id: str, at: float) -> bool:
        """Record an event id applied at `at`; False when it was applied before (a redelivery).

        Ids are kept in the order they came, each stamped no earlier than the one before, so
        the oldest is always first and forgetting takes it off the front."""
        seen = self.seen
        if event_id in seen:
            return False
        stamp = max(at, next(reversed(seen.values()), at))
        if next(iter(seen.values()), 0.0) == UNSTAMPED:
            seen.update(dict.fromkeys(seen, stamp))
        while seen:
            oldest, when = next(iter(seen.items()))
            if len(seen) < SEEN_MAX and when >= stamp - SEEN_HORIZON:
                break
            del seen[oldest]
        seen[event_id] = stamp
        return True

    def drill_down_json(self, flow_id: str) -> bytes:
        """The drill-down row of this visitor in `flow_id`, as stored for the API."""
        record = self.funnel[flow_id]
        row: dict[str, Any] = {
            "visitor_id": self.visitor_id,
            "status": record.status,
            "triggers": record.triggers,
            "channel": record.channel,
            "first_trigger": record.first,
            "last_trigger": record.last,
            "conversation_id": record.conversation_id,
        }
        return dumps(row)


def _seen(stored: list[str] | dict[str, float]) -> dict[str, float]:
    """The applied ids as stored: states written before stamps kept a list of the last 64,
    which the next event stamps (so they are kept SEEN_HORIZON from then)."""
    if isinstance(stored, list):
        return dict.fromkeys(stored, UNSTAMPED)
    return dict(stored)
