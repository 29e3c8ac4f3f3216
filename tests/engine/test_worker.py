"""Workers against a real Redis: streams, redelivery, reclaiming, concurrency."""

from __future__ import annotations

import gc
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from engine.client import Client, parley_client
from engine.core import Engine
from engine.effects import Effects
from engine.events import Event
from engine.flows import FlowRegistry
from engine.metrics import Metrics
from engine.ports import ManualClock
from engine.state import VisitorState
from engine.store import COMMIT_CHUNK, RedisStore
from engine.streams import RENEW_EVERY, ShardLeases
from engine.worker import GROUP, EventStream, Worker
from tests.engine.flows import ECHO, NUDGE, PICK


def make_engine(client: Client, tmp_path: Path) -> Engine:
    (tmp_path / "echo.yaml").write_text(ECHO)
    flows = FlowRegistry(client)
    assert not flows.load([tmp_path]).failed()
    return Engine(RedisStore(client), flows, ManualClock())


def message(number: int, visitor: str = "v1") -> Event:
    return Event(
        id=f"m{number}",
        type="message.received",
        visitor_id=visitor,
        conversation_id="c1",
        at=1_767_225_600.0 + number,
        channel="widget",
        state="hosted",
        text=f"hello {number}",
    )


def said(engine: Engine) -> list[str]:
    return sorted(c["args"]["text"] for c in engine.store.read_commands() if c["kind"] == "say")


def test_published_events_are_applied_and_acknowledged(
    redis_client: Client, tmp_path: Path
) -> None:
    engine = make_engine(redis_client, tmp_path)
    stream = EventStream(redis_client)
    worker = Worker(engine, "w1")
    for number in range(3):
        stream.publish(message(number))
    assert worker.poll() == 3
    assert said(engine) == ["You said hello 0", "You said hello 1", "You said hello 2"]
    shard = engine.store.keys.shard("v1")
    pending = redis_client.xpending(engine.store.keys.events(shard), GROUP)
    assert pending["pending"] == 0


def test_an_event_delivered_twice_acts_once(redis_client: Client, tmp_path: Path) -> None:
    engine = make_engine(redis_client, tmp_path)
    stream = EventStream(redis_client)
    stream.publish(message(1))
    stream.publish(message(1))
    Worker(engine, "w1").poll()
    assert said(engine) == ["You said hello 1"]


def leasing_worker(engine: Engine, name: str, clock: ManualClock) -> Worker:
    """A worker whose lease renewals follow `clock`."""
    leases = ShardLeases(engine.store.redis, engine.store.keys, name, GROUP, clock=clock.now)
    return Worker(engine, name, leases=leases)


def lapse(client: Client, worker: Worker) -> None:
    """What Redis does LEASE_MS after a worker died: its leases and its liveness are gone."""
    keys = worker.keys
    client.delete(*[keys.lease(shard, GROUP) for shard in worker.leases.owned])
    client.zrem(keys.workers(GROUP), worker.name)


def said_in_order(engine: Engine) -> list[str]:
    return [c["args"]["text"] for c in engine.store.read_commands() if c["kind"] == "say"]


def test_the_shards_of_a_dead_worker_are_taken_over_with_the_events_it_had_taken(
    redis_client: Client, tmp_path: Path
) -> None:
    engine = make_engine(redis_client, tmp_path)
    EventStream(redis_client).publish(message(1))
    clock = ManualClock()
    dead = leasing_worker(engine, "dead", clock)
    taken = dead.queue.take(dead.name, 100, dead.leases.shards())
    assert len(taken) == 1  # taken, then the worker dies before applying it
    alive = leasing_worker(engine, "alive", clock)
    alive.poll()
    assert said(engine) == []  # the shard is still the dead worker's
    lapse(redis_client, dead)
    clock.advance(RENEW_EVERY)
    alive.poll()
    assert said(engine) == ["You said hello 1"]


def test_a_shard_taken_over_is_applied_in_its_stream_order(
    redis_client: Client, tmp_path: Path
) -> None:
    engine = make_engine(redis_client, tmp_path)
    stream = EventStream(redis_client)
    stream.publish(message(1))
    dead = Worker(engine, "dead")
    assert len(dead.queue.take(dead.name, 1, dead.leases.shards())) == 1
    stream.publish(message(2))  # arrives after the first was taken by the worker that died
    lapse(redis_client, dead)
    Worker(engine, "alive").poll()
    assert said_in_order(engine) == ["You said hello 1", "You said hello 2"]


def test_an_unreadable_event_is_set_aside_not_lost(redis_client: Client, tmp_path: Path) -> None:
    engine = make_engine(redis_client, tmp_path)
    keys = engine.store.keys
    worker = Worker(engine, "w1")
    redis_client.xadd(keys.events(0), {"event": b'{"type": "nonsense"}'})
    worker.poll()
    dead = redis_client.xrange(keys.dead_letters(0)) or []
    entries = [fields for _, fields in dead if fields]
    assert len(entries) == 1
    assert b"nonsense" in entries[0][b"entry"]


def test_concurrent_workers_on_one_visitor_lose_no_update(
    redis_client: Client, redis_url: str, tmp_path: Path
) -> None:
    engines = [make_engine(parley_client(redis_url), tmp_path) for _ in range(4)]
    events = [message(number) for number in range(200)]
    threads = [
        threading.Thread(target=lambda e=engine, i=index: [e.handle(ev) for ev in events[i::4]])
        for index, engine in enumerate(engines)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state, rev = engines[0].store.load("v1")
    assert state.funnel["echo"].triggers == 200
    assert Metrics(redis_client).funnel("echo").triggers == 200
    assert rev == 200


def test_one_poisoned_event_is_set_aside_and_the_others_are_applied(
    redis_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poison comes after two chunks of the batch's commits went to Redis: those
    commits stand, and applying the batch again one by one repeats none of them."""
    engine = make_engine(redis_client, tmp_path)
    apply, applied, poison = engine.runtime.apply, [0], set()

    def poisoned(state: VisitorState, event: Event) -> Effects | None:
        applied[0] += 1
        if applied[0] == 2 * COMMIT_CHUNK + 1:
            poison.add(event.id)
        if event.id in poison:
            raise ValueError("this event breaks the flow")
        return apply(state, event)

    monkeypatch.setattr(engine.runtime, "apply", poisoned)
    stream = EventStream(redis_client)
    visitors = 3 * COMMIT_CHUNK
    for number in range(visitors):
        stream.publish(message(number, visitor=f"v{number}"))
    Worker(engine, "w1", batch=visitors).poll()
    [bad] = poison
    assert said(engine) == sorted(f"You said hello {n}" for n in range(visitors) if f"m{n}" != bad)
    dead = [
        fields[b"entry"]
        for shard in range(engine.store.keys.shards)
        for _, fields in redis_client.xrange(engine.store.keys.dead_letters(shard)) or []
        if fields
    ]
    assert len(dead) == 1
    assert b"this event breaks the flow" in dead[0]


def test_applying_events_leaves_no_reference_cycles(one_redis: Client, tmp_path: Path) -> None:
    """An event's objects are freed as soon as it is committed, not by Python's cyclic
    collector, which a worker process runs rarely (`collect_less_often`). On one Redis:
    redis-py's Cluster client makes a few cycles of its own per pipeline."""
    for name, text in (("echo", ECHO), ("pick", PICK), ("nudge", NUDGE)):
        (tmp_path / f"{name}.yaml").write_text(text)
    flows = FlowRegistry(one_redis)
    assert not flows.load([tmp_path]).failed()
    clock = ManualClock()
    engine = Engine(RedisStore(one_redis), flows, clock)
    engine.handle(message(0))  # the first use of a flow compiles its templates
    visitors = [f"v{n}" for n in range(20)]
    while gc.collect():  # what earlier tests left (their clients' finalisers make cycles too)
        pass
    gc.disable()
    try:
        engine.handle_batch([message(1, visitor=v) for v in visitors])
        engine.handle_batch(
            [replace(message(2, visitor=v), type="message.sent", sender="agent") for v in visitors]
        )
        clock.advance(2 * 3600)
        assert engine.fire_due_timers() >= len(visitors)  # the nudges, at least
        assert gc.collect() == 0
    finally:
        gc.enable()
