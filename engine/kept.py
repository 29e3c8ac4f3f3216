"""The visitor states a worker committed last, kept in memory so their next events need no
load from Redis.

A worker leases its shards (`engine.streams`), so it is almost always the only writer of
their visitors' states, and the state it committed is the state in Redis. Keeping it saves
the load: a round trip for `Engine.handle`, and for every batch the transfer and parsing
of each state (about 4 KB of JSON, a fifth of a batched event's CPU).

Redis stays the truth. A commit still checks the state's revision, so a kept state that
went stale (another process wrote meanwhile: a lease lost mid-batch, a shard handed over,
Redis restarted without its last writes) only makes that commit fail, and the event is
applied again on a fresh load. A worker also drops the states of shards it no longer
leases, so one it leases again starts from Redis.

At most `size` states are kept (the least recently used go first); a parsed state takes
about three times its JSON in memory, so 10,000 states of a busy flow set are ~130 MB.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection

from engine.state import VisitorState

KEPT_STATES = 10_000  # by default (PARLEY_KEPT_STATES)


class KeptStates:
    """Visitor id -> (state, revision) of the latest commits, least recently used first."""

    def __init__(self, size: int = KEPT_STATES) -> None:
        self.size = size
        self._states: OrderedDict[str, tuple[VisitorState, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def take(self, visitor_id: str) -> tuple[VisitorState, int] | None:
        """The kept state and revision, no longer kept: a state being changed is put back
        only once its commit succeeded (`keep`), so a failure never leaves a half-applied
        state behind."""
        return self._states.pop(visitor_id, None)

    def keep(self, state: VisitorState, rev: int) -> None:
        """Keep a state as committed at revision `rev`."""
        if self.size <= 0:
            return
        self._states[state.visitor_id] = (state, rev)
        if len(self._states) > self.size:
            self._states.popitem(last=False)

    def retain(self, shards: Collection[int], shard_of: Callable[[str], int]) -> None:
        """Drop every state outside `shards` (the shards this worker leases now)."""
        for visitor_id in [v for v in self._states if shard_of(v) not in shards]:
            del self._states[visitor_id]
