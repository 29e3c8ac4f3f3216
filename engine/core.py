"""The engine's front: apply events for visitors, fire due timers, all through Redis."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence

from engine.effects import Effects
from engine.errors import ConflictError
from engine.events import Event, timer_event
from engine.flows import FlowRegistry
from engine.kept import KeptStates
from engine.ports import Clock
from engine.runtime import Runtime
from engine.state import VisitorState
from engine.store import RedisStore

MAX_ATTEMPTS = 20  # a visitor's state rarely changes under us more than once or twice
RETRY_PAUSE = 0.002  # seconds: the random pause after a lost commit grows by this much


class Engine:
    """Applies events atomically per visitor and fires timers when they fall due."""

    def __init__(
        self,
        store: RedisStore,
        flows: FlowRegistry,
        clock: Clock,
        *,
        kept: KeptStates | None = None,
    ) -> None:
        self.store = store
        self.flows = flows
        self.clock = clock
        self.runtime = Runtime(flows, clock.now)
        self.kept = KeptStates() if kept is None else kept

    def handle(self, event: Event) -> Effects | None:
        """Apply one event; None when it had been applied before (a redelivery).

        A commit that lost the race for the visitor's state is tried again on the new
        state, after a short random pause that grows with each loss, so writers that keep
        colliding spread out instead of colliding again.

        A kept state that has the event already is not taken at its word: Redis may have
        lost that commit (restarted without its last second, a replica promoted before it
        had it), so the event is looked at again on the state Redis has."""
        kept = self.kept.take(event.visitor_id)
        for attempt in range(MAX_ATTEMPTS):
            state, rev = kept or self.store.load(event.visitor_id)
            effects = self.runtime.apply(state, event)
            if effects is None and kept is None:
                self.kept.keep(state, rev)
                return None
            if effects is not None and self.store.commit(state, rev, effects):
                self.kept.keep(state, rev + 1)
                return effects
            if kept is None:  # lost a race with another writer
                time.sleep(random.uniform(0, RETRY_PAUSE * (attempt + 1)))
            kept = None
        raise ConflictError(event.visitor_id)

    def handle_batch(self, events: Sequence[Event]) -> None:
        """Apply events of many visitors with one round trip to load (the states not kept)
        and one to commit.

        Events of the same visitor are applied in order within the batch; a commit that
        loses a race is retried one event at a time. A visitor whose events were all
        applied before is committed all the same: the revision check is what tells whether
        Redis still has the kept state that says so (see `handle`).
        """
        by_visitor: dict[str, list[Event]] = {}
        for event in events:
            by_visitor.setdefault(event.visitor_id, []).append(event)
        visitors = list(by_visitor)
        kept = {visitor: self.kept.take(visitor) for visitor in visitors}
        missing = [visitor for visitor, found in kept.items() if found is None]
        loaded = dict(zip(missing, self.store.load_many(missing), strict=True))
        committed: list[tuple[VisitorState, int]] = []  # in commit order, without effects

        def applied() -> Iterator[tuple[VisitorState, int, Effects]]:
            for visitor in visitors:
                state, rev = kept[visitor] or loaded[visitor]
                merged = Effects(by_visitor[visitor][-1].id)
                for event in by_visitor[visitor]:
                    effects = self.runtime.apply(state, event)
                    if effects is not None:
                        merged.absorb(effects)
                committed.append((state, rev))
                yield state, rev, merged

        # commit_many sends the commits while the later visitors' events are applied
        replies = self.store.commit_many(applied())
        for done, (state, rev) in zip(replies, committed, strict=True):
            if done:
                self.kept.keep(state, rev + 1)
            else:
                for event in by_visitor[state.visitor_id]:
                    self.handle(event)

    def fire_due_timers(self, limit: int = 2_000, shards: Sequence[int] | None = None) -> int:
        """Fire up to `limit` timers due by the clock's time, of `shards` (default: all);
        returns how many fired.

        The limit bounds one call, so a burst of timers cannot hold up the event streams.
        """
        now = self.clock.now()
        shards = range(self.store.keys.shards) if shards is None else shards
        due = self.store.due_timers(now, max(1, limit // max(1, len(shards))), shards)
        events = [timer_event(visitor_id, timer, at, now) for visitor_id, timer, at in due]
        if events:
            self.handle_batch(events)
        return len(events)
