"""The engine's tests run on one Redis and again on a Redis Cluster of three masters with
a replica each: `redis_client` is a client on each in turn, emptied first. `one_redis` is
a client on the one server only, for what only one server does (the packed wire's own
path; a Cluster client's pipelines make cycles and send at the end)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from engine.client import Client, parley_client, plain_client
from tests.cluster.local import LocalCluster


@pytest.fixture(params=["redis", pytest.param("cluster", marks=pytest.mark.cluster)])
def redis_url(request: pytest.FixtureRequest, redis_server: str) -> str:
    """The URL of the test's Redis: the session's one server, or the session's Cluster."""
    if request.param == "redis":
        return redis_server
    cluster: LocalCluster = request.getfixturevalue("redis_cluster")
    return cluster.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Client]:
    """Parley's client on the test's Redis, emptied first so each test starts from nothing."""
    client = parley_client(redis_url)
    client.flushall()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def one_redis(redis_server: str) -> Iterator[redis.Redis]:
    """A client on the session's one Redis, emptied first."""
    client = plain_client(redis_server)
    client.flushall()
    try:
        yield client
    finally:
        client.close()
