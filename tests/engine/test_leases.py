"""Workers split the shards between them with leases, and rebalance as they come and go."""

from __future__ import annotations

from engine.client import Client
from engine.keys import Keys
from engine.ports import ManualClock
from engine.streams import RENEW_EVERY, ShardLeases

KEYS = Keys()
GROUP = "parley-workers"


def test_a_worker_alone_leases_every_shard(redis_client: Client) -> None:
    leases = ShardLeases(redis_client, KEYS, "w1", GROUP, clock=ManualClock().now)
    assert leases.shards() == list(range(KEYS.shards))


def test_two_workers_split_the_shards_once_the_first_gives_back_its_extra(
    redis_client: Client,
) -> None:
    clock = ManualClock()
    first = ShardLeases(redis_client, KEYS, "w1", GROUP, clock=clock.now)
    second = ShardLeases(redis_client, KEYS, "w2", GROUP, clock=clock.now)
    assert len(first.shards()) == KEYS.shards
    assert second.shards() == []  # every shard is leased: it waits for its share
    clock.advance(RENEW_EVERY)
    assert len(first.shards()) == KEYS.shards // 2
    assert len(second.shards()) == KEYS.shards // 2
    assert set(first.shards()).isdisjoint(second.shards())


def test_a_worker_renews_at_most_every_second(redis_client: Client) -> None:
    clock = ManualClock()
    first = ShardLeases(redis_client, KEYS, "w1", GROUP, clock=clock.now)
    first.shards()
    ShardLeases(redis_client, KEYS, "w2", GROUP, clock=clock.now).shards()
    assert len(first.shards()) == KEYS.shards  # not yet rebalanced
    clock.advance(RENEW_EVERY)
    assert len(first.shards()) == KEYS.shards // 2


def test_the_shards_of_a_worker_that_stops_go_to_the_others(redis_client: Client) -> None:
    clock = ManualClock()
    first = ShardLeases(redis_client, KEYS, "w1", GROUP, clock=clock.now)
    second = ShardLeases(redis_client, KEYS, "w2", GROUP, clock=clock.now)
    first.shards()
    second.shards()
    clock.advance(RENEW_EVERY)
    first.shards()
    second.shards()
    first.release()
    clock.advance(RENEW_EVERY)
    assert second.shards() == list(range(KEYS.shards))


def test_a_lease_another_worker_took_meanwhile_is_dropped(redis_client: Client) -> None:
    clock = ManualClock()
    leases = ShardLeases(redis_client, KEYS, "w1", GROUP, clock=clock.now)
    leases.shards()
    redis_client.set(KEYS.lease(3, GROUP), "w2")  # w1's lease lapsed and w2 took the shard
    clock.advance(RENEW_EVERY)
    assert 3 not in leases.shards()
