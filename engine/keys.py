"""Every Redis key the engine uses, in one place.

Visitors are spread over `shards` (64 by default) by a stable hash of their id, and every
key carries its shard as a Redis Cluster hash tag, `{p17}`. One visitor's keys therefore
always share a slot with their shard's timer schedule, command outbox and counters, so a
single Lua script can commit a visitor's state and all it caused atomically, on one Redis
or on a Cluster, without any operation touching two visitors' keys. Nothing global is hot:
the schedule, the streams and the counters are all split per shard.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

DEFAULT_SHARDS = 64
# The schedule keeps one sorted set per shard and minute of due time: small sets stay in
# Redis' compact listpack encoding (see docs/operations.md), where one big set per shard
# became a skiplist at about twice the memory per timer.
BUCKET_MS = 60_000


def as_text(value: object) -> str:
    """A Redis reply (bytes) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class Keys:
    """Key templates; `prefix` lets several deployments (or tests) share one Redis."""

    prefix: str = "parley"
    shards: int = DEFAULT_SHARDS

    def shard(self, visitor_id: str) -> int:
        """The shard a visitor belongs to (stable across processes and restarts)."""
        return zlib.crc32(visitor_id.encode()) % self.shards

    def _tagged(self, shard: int) -> str:
        return f"{self.prefix}:{{p{shard}}}"

    def visitor(self, visitor_id: str) -> str:
        """Hash with the visitor's state (`state`) and its revision (`rev`)."""
        return f"{self._tagged(self.shard(visitor_id))}:visitor:{visitor_id}"

    def trace(self, visitor_id: str) -> str:
        """List of the visitor's latest trace records, newest first."""
        return f"{self._tagged(self.shard(visitor_id))}:trace:{visitor_id}"

    def timers(self, shard: int, bucket: int) -> str:
        """Sorted set of the timers due in one minute (`bucket`, minutes since the epoch):
        member `visitor␟key@generation`, score = milliseconds into that minute."""
        return f"{self._tagged(shard)}:timers:{bucket}"

    def timer_buckets(self, shard: int) -> str:
        """Sorted set of the shard's minutes that hold timers: member and score the minute."""
        return f"{self._tagged(shard)}:timer-buckets"

    def events(self, shard: int) -> str:
        """Stream of events waiting for a worker."""
        return f"{self._tagged(shard)}:events"

    def dead_letters(self, shard: int) -> str:
        """Stream of events no worker could read, kept with the reason."""
        return f"{self._tagged(shard)}:dead-letters"

    def commands(self, shard: int) -> str:
        """Stream of commands for the chat layer (the engine's outbox)."""
        return f"{self._tagged(shard)}:commands"

    def metrics(self, shard: int, flow_id: str, day: str) -> str:
        """Hash of one flow's counters for one day, in one shard."""
        return f"{self._tagged(shard)}:metrics:{flow_id}:{day}"

    def metric_days(self, shard: int, flow_id: str) -> str:
        """Set of the days on which a flow has counters in this shard."""
        return f"{self._tagged(shard)}:metric-days:{flow_id}"

    def funnel(self, shard: int, flow_id: str) -> str:
        """Hash of drill-down rows: visitor id -> JSON row."""
        return f"{self._tagged(shard)}:funnel:{flow_id}"

    def funnel_index(self, shard: int, flow_id: str, status: str) -> str:
        """Sorted set of visitors with `status` in a flow, scored by their last trigger."""
        return f"{self._tagged(shard)}:funnel:{flow_id}:{status}"

    def lease(self, shard: int, group: str) -> str:
        """String: the worker that leases the shard's stream of consumer group `group`,
        expiring unless renewed."""
        return f"{self._tagged(shard)}:lease:{group}"

    def workers(self, group: str) -> str:
        """Sorted set of the names of the live workers of consumer group `group`, scored by
        when they lapse (epoch ms)."""
        return f"{self.prefix}:workers:{group}"

    def channel_stream(self, shard: int, name: str) -> str:
        """Stream of a channel's own work (such as Messenger's inbound webhook items)."""
        return f"{self._tagged(shard)}:channel:{name}"

    def flow_sources(self) -> str:
        """Hash of flow sources by `id@version`, so running visitors keep their version."""
        return f"{self.prefix}:flow-sources"

    def flow_set(self) -> str:
        """Hash of the loaded flows every process runs: `version` and `set` (see
        `engine.flow_set`). One key read alone, so it needs no hash tag."""
        return f"{self.prefix}:flow-set"

    @staticmethod
    def timer_slot(at: float, *, due: bool = True) -> tuple[int, int]:
        """(bucket, milliseconds into it) of a due time, rounded up so nothing fires early;
        with `due=False`, of the time now, rounded down.

        A whole number of milliseconds below 60,000 is what Redis stores most compactly.
        Float noise is dropped first (to the microsecond), so a clock set to a due time the
        schedule gave back finds that timer due.
        """
        millis = round(at * 1000, 3)
        return divmod(math.ceil(millis) if due else math.floor(millis), BUCKET_MS)

    @staticmethod
    def timer_member(visitor_id: str, timer_key: str, generation: int) -> str:
        """The schedule entry of one timer."""
        return f"{visitor_id}\x1f{timer_key}@{generation}"
