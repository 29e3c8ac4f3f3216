"""Workers: consume events from the shards' streams and fire due timers.

Events enter Redis Streams, one per shard. Workers read them in one consumer group, so
each event goes to one worker; an event is acknowledged only after the visitor's state is
committed (at-least-once), and the engine recognises a redelivered event, so nothing
happens twice. Entries a dead worker left pending are claimed by the others (XAUTOCLAIM).
Any number of worker processes may share one Redis or a Redis Cluster.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable

import redis

from engine.core import Engine
from engine.errors import InvalidInput
from engine.events import Event, parse_event
from engine.keys import Keys

GROUP = "parley-workers"
EVENT_STREAM_LENGTH = 1_000_000  # approximate cap per shard; acknowledged entries age out
log = logging.getLogger(__name__)
# What a malformed event can raise while applied. Redis errors and ConflictError are not:
# those leave the entries pending, to be delivered again.
_EVENT_FAILURES = (InvalidInput, ValueError, KeyError, LookupError, TypeError)


class EventStream:
    """The producer side: where the chat layer and channels put events for the engine."""

    def __init__(self, client: redis.Redis, keys: Keys | None = None) -> None:
        self.redis = client
        self.keys = keys or Keys()

    def publish(self, event: Event) -> None:
        """Append an event to its visitor's shard stream."""
        stream = self.keys.events(self.keys.shard(event.visitor_id))
        self.redis.xadd(
            stream, {"event": event.to_json()}, maxlen=EVENT_STREAM_LENGTH, approximate=True
        )

    def ensure_groups(self) -> None:
        """Create the consumer group on every shard's stream (idempotent)."""
        for shard in range(self.keys.shards):
            try:
                self.redis.xgroup_create(self.keys.events(shard), GROUP, id="0", mkstream=True)
            except redis.ResponseError as err:
                if "BUSYGROUP" not in str(err):
                    raise


class Worker:
    """One consumer: reads events in batches, applies them, fires timers."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        *,
        batch: int = 100,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.engine = engine
        self.name = name
        self.batch = batch
        self.claim_idle_ms = claim_idle_ms
        self.keys = engine.store.keys
        self.redis = engine.store.redis
        EventStream(self.redis, self.keys).ensure_groups()

    def poll(self) -> int:
        """Claim abandoned entries, read new ones, apply them, fire timers; returns work done."""
        entries = self._claim() + self._read()
        self._apply(entries)
        return len(entries) + self.engine.fire_due_timers()

    def run(self, stop: threading.Event, idle_wait: float = 0.1) -> None:
        """Poll until `stop` is set, waiting briefly whenever there was nothing to do."""
        while not stop.is_set():
            if not self.poll():
                stop.wait(idle_wait)  # bounds timer lateness to about this long

    def _read(self) -> list[tuple[int, bytes, dict[bytes, bytes]]]:
        pipe = self.redis.pipeline(transaction=False)
        for shard in range(self.keys.shards):
            pipe.xreadgroup(GROUP, self.name, {self.keys.events(shard): ">"}, count=self.batch)
        found = []
        for shard, reply in enumerate(pipe.execute()):
            for _, messages in reply or []:
                found += [(shard, entry_id, fields) for entry_id, fields in messages]
        return found

    def _claim(self) -> list[tuple[int, bytes, dict[bytes, bytes]]]:
        pipe = self.redis.pipeline(transaction=False)
        for shard in range(self.keys.shards):
            pipe.xautoclaim(
                self.keys.events(shard), GROUP, self.name, self.claim_idle_ms, count=self.batch
            )
        found = []
        for shard, (_, messages, *_rest) in enumerate(pipe.execute()):
            found += [(shard, entry_id, fields) for entry_id, fields in messages if fields]
        return found

    def _apply(self, entries: Iterable[tuple[int, bytes, dict[bytes, bytes]]]) -> None:
        events: list[tuple[int, dict[bytes, bytes], Event]] = []
        acks = []
        for shard, entry_id, fields in entries:
            acks.append((shard, entry_id))
            try:
                events.append((shard, fields, parse_event(fields[b"event"])))
            except (InvalidInput, KeyError) as err:
                self._dead_letter(shard, fields, str(err))
        if events:
            self._handle(events)
        pipe = self.redis.pipeline(transaction=False)
        for shard, entry_id in acks:
            pipe.xack(self.keys.events(shard), GROUP, entry_id)
        pipe.execute()

    def _handle(self, events: list[tuple[int, dict[bytes, bytes], Event]]) -> None:
        """Apply a batch; if an event in it cannot be applied, apply them one by one and set
        aside only the ones that fail, so one poisoned event never blocks the others."""
        try:
            self.engine.handle_batch([event for _, _, event in events])
        except _EVENT_FAILURES:
            for shard, fields, event in events:
                try:
                    self.engine.handle(event)
                except _EVENT_FAILURES as err:
                    self._dead_letter(shard, fields, f"{type(err).__name__}: {err}")

    def _dead_letter(self, shard: int, fields: dict[bytes, bytes], error: str) -> None:
        """Keep an event the engine cannot read, with the reason, instead of losing it."""
        log.warning("unreadable event set aside: %s", error)
        raw = fields.get(b"event", b"").decode("utf-8", "replace")
        record = json.dumps({"event": raw, "error": error})
        self.redis.xadd(self.keys.dead_letters(shard), {"entry": record}, maxlen=10_000)
