"""Work queues on Redis Streams: one stream per shard, read by one consumer group.

Each entry goes to one consumer and stays pending until acknowledged, so work taken by a
consumer that died is claimed by another after `claim_idle_ms` (XAUTOCLAIM). Entries that
can never be processed are set aside in a dead-letter stream with the reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import redis

Entry = tuple[int, bytes, dict[bytes, bytes]]  # shard, entry id, fields
# Approximate cap per shard, far above any backlog workers leave; past it the oldest entries
# are trimmed, acknowledged or not (a trimmed pending entry is skipped when claimed).
STREAM_LENGTH = 1_000_000
DEAD_LETTERS_LENGTH = 10_000
log = logging.getLogger(__name__)


class ShardedQueue:
    """The streams `key(0) .. key(shards - 1)`, consumed by `group`."""

    def __init__(
        self,
        client: redis.Redis,
        key: Callable[[int], str],
        dead_letters: Callable[[int], str],
        shards: int,
        group: str,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.redis = client
        self.key = key
        self.dead_letters = dead_letters
        self.shards = shards
        self.group = group
        self.claim_idle_ms = claim_idle_ms

    def ensure_group(self) -> None:
        """Create the consumer group on every shard's stream (idempotent)."""
        for shard in range(self.shards):
            try:
                self.redis.xgroup_create(self.key(shard), self.group, id="0", mkstream=True)
            except redis.ResponseError as err:
                if "BUSYGROUP" not in str(err):
                    raise

    def add(self, entries: Iterable[tuple[int, Mapping[Any, Any]]]) -> None:
        """Append each `(shard, fields)` to its shard's stream, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for shard, fields in entries:
            pipe.xadd(self.key(shard), dict(fields), maxlen=STREAM_LENGTH, approximate=True)
        pipe.execute()

    def take(self, consumer: str, count: int) -> list[Entry]:
        """Entries a dead consumer left pending, then new ones: up to `count` per shard each."""
        claims = self.redis.pipeline(transaction=False)
        for shard in range(self.shards):
            claims.xautoclaim(
                self.key(shard), self.group, consumer, self.claim_idle_ms, count=count
            )
        reads = self.redis.pipeline(transaction=False)
        for shard in range(self.shards):
            reads.xreadgroup(self.group, consumer, {self.key(shard): ">"}, count=count)
        taken = [
            (shard, entry_id, fields)
            for shard, (_, messages, *_rest) in enumerate(claims.execute())
            for entry_id, fields in messages
            if fields  # an entry trimmed from the stream meanwhile comes back empty
        ]
        return taken + [
            (shard, entry_id, fields)
            for shard, reply in enumerate(reads.execute())
            for _, messages in reply or []
            for entry_id, fields in messages
        ]

    def ack(self, shard: int, entry_id: bytes) -> None:
        """The entry is done with."""
        self.redis.xack(self.key(shard), self.group, entry_id)

    def set_aside(self, shard: int, fields: Mapping[bytes, bytes], error: str) -> None:
        """Keep an entry that cannot be processed, with the reason, instead of losing it."""
        log.warning("%s: entry set aside: %s", self.key(shard), error)
        record = {key.decode(): value.decode("utf-8", "replace") for key, value in fields.items()}
        self.redis.xadd(
            self.dead_letters(shard),
            {"entry": json.dumps({**record, "error": error})},
            maxlen=DEAD_LETTERS_LENGTH,
        )
