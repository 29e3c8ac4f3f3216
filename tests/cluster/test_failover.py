"""A master dies under load (SIGKILL) and its replica takes over: nothing is lost or doubled.

Events are published with `replicas=1` (a publish counts only once a replica holds the
event; one that fails is published again, as the outbox relay does) while two workers apply
them and a consumer carries the commands out, as the chat layer does. Mid-way the master of
the busiest shards is killed; its replica is promoted after the cluster's node timeout. The
guarantee (docs/operations.md, "Redis Cluster"): every acknowledged event applied exactly
once, each command once in the command streams, and any command the consumer was given
before the failover is in them with the same key and content (the chat layer's record of
executed keys makes a second delivery harmless).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import orjson
import pytest

from engine.client import REDIS_AWAY, Client, parley_client
from engine.core import Engine
from engine.events import Event
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.metrics import Metrics
from engine.ports import ManualClock
from engine.store import RedisStore
from engine.streams import ShardedQueue, ShardLeases
from engine.worker import EventStream, Worker
from tests.cluster.local import LocalCluster
from tests.conftest import running_in_tmp
from tests.engine.flows import ECHO
from tests.service.crowd import wall_clock

pytestmark = pytest.mark.cluster

T0 = 1_767_225_600.0
VISITORS = 48  # spread over every node's shards
TOTAL = 600  # events published
IN_FLIGHT = 100  # the publisher keeps at most this many published and not yet applied
DEADLINE = 120.0  # seconds for anything the test waits for (a busy host is slow)
COMMANDS_GROUP = "chat"
T = TypeVar("T")


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    """A cluster of this test's own, since it kills one of its masters."""
    with running_in_tmp("parley-failover-", LocalCluster) as found:
        yield found


def message(number: int) -> Event:
    return Event(
        id=f"m{number}",
        type="message.received",
        visitor_id=f"v{number % VISITORS}",
        conversation_id=f"c{number % VISITORS}",
        at=T0 + number / 1000,
        channel="widget",
        state="hosted",
        text=f"hello {number}",
    )


class Load:
    """The threads of the test: a publisher, two workers, a command consumer."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.stop = threading.Event()
        self.published = 0  # events acknowledged, in order
        self.applied = 0  # entries the workers took and applied
        self.carried_out: dict[str, list[bytes]] = {}  # command key -> each delivery
        self.errors: Counter[str] = Counter()  # what the cluster answered while it failed over
        self.threads = [
            threading.Thread(target=self._publish),
            threading.Thread(target=self._work, args=("w1",)),
            threading.Thread(target=self._work, args=("w2",)),
            threading.Thread(target=self._carry_out),
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def progress(self) -> str:
        """What the threads did so far, for a test that timed out."""
        alive = sum(thread.is_alive() for thread in self.threads)
        with parley_client(self.url) as client:
            counted = triggers(client)
        return (
            f"published {self.published}, taken {self.applied}, counted {counted}, carried out "
            f"{len(self.carried_out)}, errors {dict(self.errors)}, threads alive {alive}"
        )

    def _retrying(self, step: Callable[[], T]) -> T | None:
        """Do `step` until it succeeds, as the service's loops do while Redis is away (None:
        the test is over)."""
        while not self.stop.is_set():
            try:
                return step()
            except REDIS_AWAY as err:
                self.errors[type(err).__name__] += 1
                self.stop.wait(0.05)
        return None

    def _publish(self) -> None:
        stream = EventStream(parley_client(self.url), replicas=1)
        while self.published < TOTAL and not self.stop.is_set():
            if self.published - self.applied >= IN_FLIGHT:
                self.stop.wait(0.005)  # the workers are behind: wait for them to catch up
                continue
            self._retrying(lambda: stream.publish(message(self.published)))
            self.published += 1

    def _work(self, name: str) -> None:
        client = parley_client(self.url)
        flows = FlowRegistry(client)
        (self.folder / "echo.yaml").write_text(ECHO)
        self._retrying(lambda: flows.start([self.folder]))
        worker = Worker(Engine(RedisStore(client), flows, ManualClock(T0)), name)
        while not self.stop.is_set():
            done = self._retrying(worker.poll) or 0
            self.applied += done
            if not done:
                self.stop.wait(0.01)

    def _carry_out(self) -> None:
        client = parley_client(self.url)
        keys = Keys()
        queue = ShardedQueue(client, keys.commands, keys.dead_letters, COMMANDS_GROUP)
        queue.ensure_group(range(keys.shards))
        leases = ShardLeases(client, keys, "chat-1", COMMANDS_GROUP)
        while not self.stop.is_set():
            if not self._retrying(lambda: self._carry_out_once(queue, leases)):
                self.stop.wait(0.01)

    def _carry_out_once(self, queue: ShardedQueue, leases: ShardLeases) -> int:
        entries = queue.take("chat-1", 100, leases.shards())
        for _, _, fields in entries:
            command = orjson.loads(fields[b"command"])
            self.carried_out.setdefault(command["key"], []).append(fields[b"command"])
        queue.ack([(shard, entry_id) for shard, entry_id, _ in entries])
        return len(entries)


def wait_until(ready: Callable[[], bool], what: str, load: Load | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not ready():
        progress = "" if load is None else f"; {load.progress()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}{progress}"
        wall_clock(0.02)  # a real failover under way: real time is the point


def triggers(client: Client) -> int:
    try:
        return Metrics(client).funnel("echo").triggers
    except REDIS_AWAY:
        return -1


def test_a_master_killed_under_load_loses_no_acknowledged_event_and_doubles_nothing(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    client = parley_client(cluster.url)
    keys = Keys()
    busiest = Counter(cluster.primary_of(keys.events(shard)).port for shard in range(64))
    victim = next(node for node in cluster.nodes if node.port == busiest.most_common(1)[0][0])
    with Load(cluster.url, tmp_path) as load:
        wait_until(lambda: load.applied >= TOTAL // 4, "the workers to be under way", load)
        cluster.kill(victim)  # while events are published and applied
        cluster.wait_healthy(replicas=False)  # its replica took over
        wait_until(lambda: triggers(client) == TOTAL, f"all {TOTAL} events applied", load)
        wait_until(lambda: len(load.carried_out) == TOTAL, "every command carried out", load)
    assert load.errors, "the kill went unnoticed: nothing failed over"
    assert triggers(client) == TOTAL  # each event applied once: no more, no less
    store = RedisStore(client)
    for visitor in range(VISITORS):
        state, _ = store.load(f"v{visitor}")
        assert state.funnel["echo"].triggers == len(range(visitor, TOTAL, VISITORS))
    commands = {command["key"]: command for command in store.read_commands()}
    assert len(store.read_commands()) == len(commands) == TOTAL  # none twice in the outbox
    assert {command["args"]["text"] for command in commands.values()} == {
        f"You said hello {number}" for number in range(TOTAL)
    }
    for key, deliveries in load.carried_out.items():
        for delivered in deliveries:  # what was carried out is what the outbox kept
            assert orjson.loads(delivered) == commands[key]


def test_a_commit_the_replica_never_got_is_made_again_though_the_worker_kept_the_state(
    redis_cluster: LocalCluster, tmp_path: Path
) -> None:
    """A promoted replica can miss a visitor's last commit; the worker that made it still
    keeps that state in memory (engine.kept) and takes the event, delivered again, for
    one it has applied. Its batch's commit, checked against the revision in Redis, fails,
    and the event is applied again on the state Redis has."""
    client = parley_client(redis_cluster.url)
    client.flushall()
    (tmp_path / "echo.yaml").write_text(ECHO)
    flows = FlowRegistry(client)
    assert not flows.load([tmp_path]).failed()
    engine = Engine(RedisStore(client), flows, ManualClock(T0))
    worker = Worker(engine, "w1")
    event, keys = message(0), engine.store.keys
    EventStream(client).publish(event)
    assert worker.poll() == 1
    assert len(engine.kept) == 1  # the worker keeps the state it committed
    shard = keys.shard(event.visitor_id)
    for key in (keys.visitor(event.visitor_id), keys.commands(shard), keys.trace(event.visitor_id)):
        client.delete(key)  # the commit, as the replica never had it
    EventStream(client).publish(event)  # delivered again: the outbox had not heard back
    assert worker.poll() == 1
    state, rev = engine.store.load(event.visitor_id)
    assert (rev, state.funnel["echo"].triggers) == (1, 1)
    assert [c["args"]["text"] for c in engine.store.read_commands()] == ["You said hello 0"]
