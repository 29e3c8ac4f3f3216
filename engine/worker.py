"""Workers: consume events from the shards' streams and fire due timers.

Events enter Redis Streams, one per shard, read by one consumer group. Each worker leases a
share of the shards (`engine.streams`) and reads only those, so a visitor's events are
applied one after the other by one worker; an event is acknowledged only after the
visitor's state is committed (at-least-once), and the engine recognises a redelivered
event, so nothing happens twice. The shards of a worker that died are taken over, with the
events it had not acknowledged, once its leases lapse. Any number of worker processes may
share one Redis or a Redis Cluster.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterable

from engine.client import Appender, Client
from engine.core import Engine
from engine.errors import InvalidInput
from engine.events import Event, parse_event
from engine.keys import Keys
from engine.streams import STREAM_LENGTH, Entry, ShardedQueue, ShardLeases

GROUP = "parley-workers"
# Python's cyclic garbage collector in a process that runs workers: see collect_less_often
COLLECTOR_THRESHOLDS = (2_000, 100, 100)
log = logging.getLogger(__name__)
# What a malformed event can raise while applied. Redis errors and ConflictError are not:
# those leave the entries pending, to be delivered again.
_EVENT_FAILURES = (InvalidInput, ValueError, KeyError, LookupError, TypeError)


def collect_less_often() -> None:
    """Set this process's garbage-collector thresholds for running workers.

    A worker holds thousands of visitor states and a batch's events and effects; with
    Python's default thresholds (700, 10, 10) the collector scanned them so often that it
    took a fifth to a third of a batched event's CPU (bench/engine_throughput.py), down
    to about a twentieth with these. The engine's objects make no reference cycles
    (tests/engine/test_worker.py), so they are freed by reference counting when done with;
    collecting rarely delays only the little cyclic garbage libraries leave.
    """
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def event_queue(client: Client, keys: Keys) -> ShardedQueue:
    """The shards' event streams, as the workers consume them."""
    return ShardedQueue(client, keys.events, keys.dead_letters, GROUP)


class EventStream:
    """The producer side: where the chat layer and channels put events for the engine."""

    def __init__(self, client: Client, keys: Keys | None = None, *, replicas: int = 0) -> None:
        self.redis = client
        self.keys = keys or Keys()
        # that many replicas hold an event before `publish` returns (see engine.client)
        self.appender = Appender(client, replicas)

    def publish(self, event: Event) -> None:
        """Append an event to its visitor's shard stream; with `replicas`, return once that
        many replicas hold it too (else redis.TimeoutError: publish it again)."""
        stream = self.keys.events(self.keys.shard(event.visitor_id))
        self.appender.append([(stream, {"event": event.to_json()})], STREAM_LENGTH)


class Worker:
    """One consumer: reads its shards' events in batches, applies them, fires their timers."""

    def __init__(
        self,
        engine: Engine,
        name: str,
        *,
        batch: int = 100,
        leases: ShardLeases | None = None,
    ) -> None:
        self.engine = engine
        self.name = name
        self.batch = batch
        self.keys = engine.store.keys
        self.redis = engine.store.redis
        self.leases = leases or ShardLeases(self.redis, self.keys, name, GROUP)
        self.queue = event_queue(self.redis, self.keys)
        self.queue.ensure_group(range(self.keys.shards))
        self._leased: set[int] = set()

    def poll(self) -> int:
        """Take the leased shards' next events, apply them, fire their due timers; returns
        the work done. First it looks whether a reload published a new set of flows."""
        self.engine.flows.refresh()
        shards = self.leases.shards()
        if set(shards) != self._leased:  # a shard another worker took may change there
            self._leased = set(shards)
            self.engine.kept.retain(self._leased, self.keys.shard)
        entries = self.queue.take(self.name, self.batch, shards)
        self._apply(entries)
        return len(entries) + self.engine.fire_due_timers(shards=shards)

    def run(self, stop: threading.Event, idle_wait: float = 0.1) -> None:
        """Poll until `stop` is set, waiting briefly whenever there was nothing to do; then
        give the leases back."""
        try:
            while not stop.is_set():
                if not self.poll():
                    stop.wait(idle_wait)  # bounds timer lateness to about this long
        finally:
            self.leases.release()

    def _apply(self, entries: Iterable[Entry]) -> None:
        events: list[tuple[int, dict[bytes, bytes], Event]] = []
        acks = []
        for shard, entry_id, fields in entries:
            acks.append((shard, entry_id))
            try:
                events.append((shard, fields, parse_event(fields[b"event"])))
            except (InvalidInput, KeyError) as err:
                self.queue.set_aside(shard, fields, str(err))
        if events:
            self._handle(events)
        self.queue.ack(acks)

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
                    self.queue.set_aside(shard, fields, f"{type(err).__name__}: {err}")
