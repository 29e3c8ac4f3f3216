"""Sharded work streams, each shard consumed in order by the one worker that leases it.

Every kind of work that must happen in order per visitor (the engine's events, the
chat layer's commands, Messenger's webhook items) is a Redis stream per shard, read by one
consumer group. The workers split each group's shards between them with leases
(`ShardLeases`), as Kafka's consumer groups split partitions: a worker reads only the
shards it leases, so a visitor's entries are taken one after the other, never by two
workers at once. The lease
is a key per shard that its owner renews; when a worker dies, its leases lapse after
`LEASE_MS` and the others take its shards over, with the entries it had taken and not
acknowledged, before anything newer. Workers rebalance by themselves as they come and go:
each holds about its share (the shards over the live workers) and gives back the rest.

A lease lost in the middle of a batch (a worker stalled past `LEASE_MS`) can let two
workers take a shard's entries for a moment; the consumers stay idempotent (the engine's
revision check and applied-event record, the chat layer's executed-command record), so
that costs order at worst, never a double effect.
"""

from __future__ import annotations

import json
import logging
import math
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import redis

from engine.client import Appender, Client, read_group
from engine.keys import Keys
from engine.wire import Wire

Entry = tuple[int, bytes, dict[bytes, bytes]]  # shard, entry id, fields
# Approximate cap per shard, far above any backlog workers leave; past it the oldest entries
# are trimmed, acknowledged or not (a trimmed pending entry comes back empty and is skipped).
STREAM_LENGTH = 1_000_000
DEAD_LETTERS_LENGTH = 10_000
LEASE_MS = 10_000  # a dead worker's shards wait this long before the others take them
RENEW_EVERY = 1.0  # seconds between a worker's lease renewals (well inside LEASE_MS)
log = logging.getLogger(__name__)

# Renew a lease this worker holds; 0 when another holds it now (it lapsed meanwhile).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Give a lease back, if it is still this worker's.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class ShardLeases:
    """The shards of one consumer group's streams that one worker (by its name) leases now;
    `shards()` renews and rebalances."""

    def __init__(
        self,
        client: Client,
        keys: Keys,
        name: str,
        group: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = client
        self.keys = keys
        self.name = name
        self.group = group
        # liveness is real time (the lease keys lapse on Redis' own clock), whatever the
        # service's clock; tests move this one to renew and rebalance at will
        self.clock = clock
        self.owned: set[int] = set()
        self._renewed = -math.inf
        self._wire = Wire(client)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        # each worker prefers its own order of shards, so that workers starting together
        # do not all reach for the same ones
        self._preference = sorted(
            range(keys.shards), key=lambda shard: zlib.crc32(f"{name}/{shard}".encode())
        )

    def shards(self) -> list[int]:
        """The shards to read now, in order; renews and rebalances at most every second."""
        if self.clock() - self._renewed >= RENEW_EVERY:
            self._refresh()
            self._renewed = self.clock()
        return sorted(self.owned)

    def release(self) -> None:
        """Give every lease back and leave the live workers (a graceful stop)."""
        self._wire.run_script(self._release, [([self._key(s)], [self.name]) for s in self.owned])
        # the live workers are a global key: never in a script or command with a lease,
        # which a Cluster keeps in another slot
        self.redis.zrem(self.keys.workers(self.group), self.name)
        self.owned.clear()
        self._renewed = -math.inf

    def _refresh(self) -> None:
        now_ms = int(self.clock() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.keys.workers(self.group), {self.name: now_ms + LEASE_MS})
        pipe.zremrangebyscore(self.keys.workers(self.group), "-inf", now_ms)
        pipe.zcard(self.keys.workers(self.group))
        for shard in range(self.keys.shards):
            pipe.get(self._key(shard))
        _, _, live, *holders = pipe.execute()
        mine = self.name.encode()
        self.owned = {shard for shard, holder in enumerate(holders) if holder == mine}
        share = math.ceil(self.keys.shards / max(1, live))
        free = [shard for shard in self._preference if holders[shard] is None]
        extra = [shard for shard in reversed(self._preference) if shard in self.owned]
        extra = extra[: max(0, len(self.owned) - share)]
        wanted = free[: max(0, share - len(self.owned))]
        held = sorted(self.owned)
        # three round trips, once a second: scripts go through the wire, which loads a script
        # a server does not know (a restarted or promoted Cluster node) and runs it again
        lease = self._key
        renewed = self._wire.run_script(
            self._renew, [([lease(s)], [self.name, LEASE_MS]) for s in held]
        )
        self._wire.run_script(self._release, [([lease(s)], [self.name]) for s in extra])
        taken = self._wire.call_many(
            [(b"SET", lease(s), self.name, b"NX", b"PX", LEASE_MS) for s in wanted]
        )
        self.owned = {shard for shard, ok in zip(held, renewed, strict=True) if ok}
        self.owned -= set(extra)
        self.owned |= {shard for shard, ok in zip(wanted, taken, strict=True) if ok}

    def _key(self, shard: int) -> str:
        return self.keys.lease(shard, self.group)


class ShardedQueue:
    """The streams `key(0) .. key(shards - 1)`, consumed by `group`."""

    def __init__(
        self,
        client: Client,
        key: Callable[[int], str],
        dead_letters: Callable[[int], str],
        group: str,
        *,
        replicas: int = 0,
    ) -> None:
        self.redis = client
        self.key = key
        self.dead_letters = dead_letters
        self.group = group
        # that many replicas hold an entry before `add` returns (see engine.client)
        self.appender = Appender(client, replicas)

    def ensure_group(self, shards: Iterable[int]) -> None:
        """Create the consumer group on every shard's stream (idempotent)."""
        for shard in shards:
            try:
                self.redis.xgroup_create(self.key(shard), self.group, id="0", mkstream=True)
            except redis.ResponseError as err:
                if "BUSYGROUP" not in str(err):
                    raise

    def add(self, entries: Iterable[tuple[int, Mapping[Any, Any]]]) -> None:
        """Append each `(shard, fields)` to its shard's stream, in one round trip (one per
        Cluster node when replicas must hold them)."""
        stream = [(self.key(shard), fields) for shard, fields in entries]
        self.appender.append(stream, STREAM_LENGTH)

    def take(self, consumer: str, count: int, shards: Iterable[int]) -> list[Entry]:
        """The next entries of each leased shard in stream order, up to `count` per shard:
        first those taken before and not acknowledged (by this worker or by the one that
        held the lease before), then new ones."""
        shards = list(shards)
        pipe = self.redis.pipeline(transaction=False)
        for shard in shards:
            pipe.xautoclaim(self.key(shard), self.group, consumer, 0, "0-0", count=count)
            read_group(pipe, self.redis, self.key(shard), self.group, consumer, count)
        replies = pipe.execute()
        taken: list[Entry] = []
        trimmed: list[tuple[int, bytes]] = []
        for shard, (_, claimed, *_rest), new in zip(
            shards, replies[::2], replies[1::2], strict=True
        ):
            # new entries come after the pending ones; while pending ones remain beyond
            # this batch, the new ones wait in the pending list for the next round
            batch = list(claimed)
            if len(claimed) < count:  # the pending list is drained: the new ones come next
                batch += [message for _, messages in new or [] for message in messages]
            for entry_id, fields in batch:
                if fields:
                    taken.append((shard, entry_id, fields))
                else:  # trimmed from the stream while pending: nothing left to do
                    trimmed.append((shard, entry_id))
        self.ack(trimmed)
        return taken

    def ack(self, entries: Iterable[tuple[int, bytes]]) -> None:
        """The `(shard, entry id)`s are done with, in one round trip: one XACK per shard."""
        by_shard: dict[int, list[bytes]] = {}
        for shard, entry_id in entries:
            by_shard.setdefault(shard, []).append(entry_id)
        pipe = self.redis.pipeline(transaction=False)
        for shard, entry_ids in by_shard.items():
            pipe.xack(self.key(shard), self.group, *entry_ids)
        pipe.execute()

    def set_aside(self, shard: int, fields: Mapping[bytes, bytes], error: str) -> None:
        """Keep an entry that cannot be processed, with the reason, instead of losing it."""
        log.warning("%s: entry set aside: %s", self.key(shard), error)
        record = {key.decode(): value.decode("utf-8", "replace") for key, value in fields.items()}
        self.redis.xadd(
            self.dead_letters(shard),
            {"entry": json.dumps({**record, "error": error})},
            maxlen=DEAD_LETTERS_LENGTH,
        )
