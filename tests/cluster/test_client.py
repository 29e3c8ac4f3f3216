"""Parley's Cluster client (engine.client): how a URL names the cluster, scripts a node has
forgotten, and publishes that a replica holds before they return."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from redis.cluster import RedisCluster

from cli import main
from engine.client import Client, parley_client
from engine.core import Engine
from engine.events import Event
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.ports import ManualClock
from engine.redis_server import connect
from engine.store import RedisStore
from engine.streams import RENEW_EVERY, ShardLeases
from engine.worker import GROUP, EventStream, Worker
from tests.cluster.local import LocalCluster, free_ports
from tests.engine.flows import ECHO

pytestmark = pytest.mark.cluster
KEYS = Keys()


@pytest.fixture
def client(redis_cluster: LocalCluster) -> Iterator[Client]:
    found = parley_client(redis_cluster.url)
    found.flushall()
    try:
        yield found
    finally:
        found.close()


def hello(number: int) -> Event:
    return Event(
        id=f"m{number}",
        type="message.received",
        visitor_id=f"v{number}",
        conversation_id=f"c{number}",
        at=1_767_225_600.0,
        channel="widget",
        state="hosted",
        text="hello",
    )


def test_a_cluster_url_names_it_by_nodes_of_which_one_answering_is_enough(
    redis_cluster: LocalCluster, tmp_path: Path
) -> None:
    away = free_ports(1)[0]  # nothing listens there
    seeds = ",".join(node.address for node in redis_cluster.nodes[:2])
    client, embedded = connect(f"redis+cluster://127.0.0.1:{away},{seeds}", tmp_path)
    try:
        assert isinstance(client, RedisCluster)
        assert embedded is None
        probes = [f"parley:{{p{shard}}}:probe" for shard in range(KEYS.shards)]
        for probe in probes:
            client.set(probe, "1")
        assert [client.get(probe) for probe in probes] == [b"1"] * KEYS.shards
        # the keys are on all three masters: the client found those its seeds did not name
        assert len({redis_cluster.primary_of(probe).port for probe in probes}) == 3
    finally:
        client.close()


def test_scripts_the_nodes_have_forgotten_are_loaded_again(client: Client, tmp_path: Path) -> None:
    (tmp_path / "echo.yaml").write_text(ECHO)
    flows = FlowRegistry(client)
    assert not flows.load([tmp_path]).failed()
    engine = Engine(RedisStore(client), flows, ManualClock())
    clock = ManualClock()
    leases = ShardLeases(client, KEYS, "w1", GROUP, clock=clock.now)
    worker = Worker(engine, "w1", leases=leases)
    stream = EventStream(client)
    for number in range(20):
        stream.publish(hello(number))
    # what a node restarted, or a replica promoted by Redis 7, knows: no script
    client.script_flush()
    assert worker.poll() == 20  # each commit script in the batch ran, once
    assert len(engine.store.read_commands()) == 20
    client.script_flush()
    clock.advance(RENEW_EVERY)
    assert leases.shards() == list(range(KEYS.shards))  # renewed by the renew script
    client.script_flush()
    leases.release()  # by the release script
    assert ShardLeases(client, KEYS, "w2", GROUP).shards() == list(range(KEYS.shards))


def test_a_publish_returns_once_a_replica_holds_the_event(
    client: Client, redis_cluster: LocalCluster
) -> None:
    stream = EventStream(client, replicas=1)
    for number in range(10):
        event = hello(number)
        stream.publish(event)
        key = KEYS.events(KEYS.shard(event.visitor_id))
        with redis_cluster.replica_of(redis_cluster.primary_of(key)).client() as replica:
            replica.readonly()
            assert replica.xlen(key) == 1  # no lag left to wait for: it is there already


def test_a_command_whose_cluster_answers_on_no_node_says_so_in_a_line() -> None:
    away = ",".join(f"127.0.0.1:{port}" for port in free_ports(2))  # nothing listens there
    result = CliRunner().invoke(
        main, ["funnel", "promo-card"], env={"REDIS_URL": f"redis+cluster://{away}"}
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: no node of the Redis Cluster answers")


def test_a_workers_round_asks_no_node_where_its_keys_are(
    client: Client, redis_cluster: LocalCluster, tmp_path: Path
) -> None:
    (tmp_path / "echo.yaml").write_text(ECHO)
    flows = FlowRegistry(client)
    assert not flows.load([tmp_path]).failed()
    worker = Worker(Engine(RedisStore(client), flows, ManualClock()), "w1")
    EventStream(client).publish(hello(1))
    before = asked_for_keys(redis_cluster)
    assert worker.poll() == 1
    worker.poll()
    # redis-py asks a server (COMMAND GETKEYS) for the keys of a command it cannot read
    # them from, a round trip each: 64 shards read would have been 64 of them
    assert asked_for_keys(redis_cluster) == before


def asked_for_keys(cluster: LocalCluster) -> int:
    """How many COMMAND calls the cluster's nodes have served (6.2 counts them together)."""
    total = 0
    for node in cluster.live():
        with node.client() as found:
            stats = found.info("commandstats")
        total += sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_command"))
    return total
