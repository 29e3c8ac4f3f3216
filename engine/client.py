"""Parley's Redis client: one Redis, or a Redis Cluster that a `redis+cluster://` URL names.

Every key is cut for a Cluster already (`engine.keys`: a shard's keys share a hash tag, and
no command or script touches keys of two shards). What still differs between the two
clients is kept here, so the rest of the engine reads the same on both (scripts sent in
batches go through `engine.wire`, which gives a node that answers NOSCRIPT the script and
runs those calls again: a node that restarted, or a replica a failover promoted, which on
Redis 7 has none of its master's scripts):

- `Appender`, which adds stream entries and, asked to, counts them added only once that
  many replicas hold them too (`WAIT`, on the connection that wrote them), so that a
  failover cannot lose a published event (docs/operations.md, "Redis Cluster").
- `read_group`, an XREADGROUP routed to its stream's node, which redis-py would otherwise
  ask a server about for every stream read;
- `announce`: pub/sub messages (a Cluster pipeline refuses PUBLISH; any node passes a
  message on to the whole cluster).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

Client: TypeAlias = redis.Redis | RedisCluster
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
WAIT_MS = 1_000  # how long a publish waits for its replicas before it counts as failed
STANDBY_CHECK_EVERY = 1.0  # seconds between looks at how many replicas a master has
# What a Cluster answers while a node is away or its slots move: like a dropped connection,
# a reason to try again shortly, not a bug.
CLUSTER_AWAY = (
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.AskError,  # and MovedError, its subclass
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.RedisClusterUnreachableError,
)
REDIS_AWAY = (redis.ConnectionError, redis.TimeoutError, *CLUSTER_AWAY)


def parley_client(url: str) -> Client:
    """Parley's client on `url`: a `redis+cluster://host:port,host:port` URL
    (`rediss+cluster://` with TLS) gives a Cluster client, which follows the cluster through
    a failover; any other, `plain_client`'s."""
    scheme, _, rest = url.partition("://")
    if scheme not in CLUSTER_SCHEMES:
        return plain_client(url)
    seeds = urlsplit(f"{scheme}://{rest}")
    login, _, hosts = seeds.netloc.rpartition("@")
    first, *others = hosts.split(",")
    query = f"?{seeds.query}" if seeds.query else ""
    at = f"{login}@" if login else ""
    return RedisCluster(
        url=f"{CLUSTER_SCHEMES[scheme]}://{at}{first}{seeds.path}{query}",
        startup_nodes=[_node(address) for address in others],
        socket_timeout=10.0,
        socket_connect_timeout=2.0,
        # a failover takes the cluster's node timeout and an election: retries spaced up to
        # half a second apart ride out a few seconds of it before a call gives up
        retry=_retry(8),
    )


def plain_client(url: str) -> redis.Redis:
    """A client on one Redis: a call fails within seconds while Redis is away (a 503, not a
    hang), after two quick retries that ride out a dropped connection."""
    return redis.Redis.from_url(
        url, socket_timeout=10.0, socket_connect_timeout=2.0, retry=_retry(2)
    )


def _retry(attempts: int) -> Retry:
    return Retry(ExponentialWithJitterBackoff(cap=0.5, base=0.05), attempts)


def _node(address: str) -> ClusterNode:
    host, _, port = address.rpartition(":")
    return ClusterNode(host, int(port))  # type: ignore[no-untyped-call]  # redis-py: untyped


_Entries = list[tuple[str, Mapping[Any, Any]]]


class Appender:
    """Adds entries to streams; with `replicas`, an add returns only once that many of
    each stream's master's replicas hold the entries too, or as many as it has (a master
    a failover left alone answers on its own word until a replica rejoins)."""

    def __init__(self, client: Client, replicas: int = 0) -> None:
        self.client = client
        self.replicas = replicas
        self._standby: dict[redis.Redis, tuple[int, float]] = {}  # node -> (replicas, when)

    def append(self, entries: Iterable[tuple[str, Mapping[Any, Any]]], maxlen: int) -> None:
        """Add each `(stream, fields)` entry (trimming the streams to about `maxlen`); when
        the replicas asked for do not all hold them within `WAIT_MS`, redis.TimeoutError.
        The entries may be there even so: a caller that adds them again makes duplicates,
        which the consumers recognise."""
        if not self.replicas:
            pipe = self.client.pipeline(transaction=False)
            for stream, fields in entries:
                pipe.xadd(stream, dict(fields), maxlen=maxlen, approximate=True)
            pipe.execute()
            return
        for node, items in self._by_node(entries).items():
            try:
                self._append_waiting(node, items, maxlen)
            except REDIS_AWAY:
                self._standby.pop(node, None)
                if isinstance(self.client, RedisCluster):
                    # the node died or gave its slots away: learn the cluster's layout
                    # again, so that the caller's next try goes where the streams are
                    _relearn(self.client)
                raise

    def _by_node(
        self, entries: Iterable[tuple[str, Mapping[Any, Any]]]
    ) -> dict[redis.Redis, _Entries]:
        """The entries by the plain client of the master that serves their stream."""
        found: dict[redis.Redis, _Entries] = {}
        for stream, fields in entries:
            client = self.client
            if isinstance(client, RedisCluster):
                primary = client.get_node_from_key(stream)  # type: ignore[no-untyped-call]
                node = client.get_redis_connection(primary)
            else:
                node = client
            found.setdefault(node, []).append((stream, fields))
        return found

    def _append_waiting(self, node: redis.Redis, items: _Entries, maxlen: int) -> None:
        wanted = min(self.replicas, self._replicas_of(node))
        # one plain pipeline is one connection: WAIT counts what this connection wrote
        pipe = node.pipeline(transaction=False)
        for stream, fields in items:
            pipe.xadd(stream, dict(fields), maxlen=maxlen, approximate=True)
        if wanted:
            pipe.wait(wanted, WAIT_MS)
        held = pipe.execute()[-1]
        if wanted and int(held) < wanted:
            raise redis.TimeoutError(
                f"entries of {items[0][0]} held by {held} of the {wanted} replicas asked for "
                f"after {WAIT_MS} ms"
            )

    def _replicas_of(self, node: redis.Redis) -> int:
        """How many replicas `node` has in step with it, as it said at most
        `STANDBY_CHECK_EVERY` seconds ago (ROLE)."""
        count, checked = self._standby.get(node, (0, -math.inf))
        if time.monotonic() - checked >= STANDBY_CHECK_EVERY:
            role: Any = node.role()
            # a master's ROLE lists each connected replica with the offset it acknowledged;
            # one still at 0 is loading its first copy and acknowledges nothing yet
            count = sum(1 for *_, offset in role[2] if int(offset) > 0) if len(role) > 2 else 0
            self._standby[node] = (count, time.monotonic())
        return count


def _relearn(client: RedisCluster) -> None:
    with contextlib.suppress(*REDIS_AWAY):  # no node answers yet: the next try asks again
        client.nodes_manager.initialize()


def read_group(
    pipe: Any, client: Client, stream: str, group: str, consumer: str, count: int
) -> None:
    """Queue on `pipe` an XREADGROUP of `stream`'s new entries, up to `count`. On a Cluster
    it names the stream's node: redis-py finds the key of an XREADGROUP by asking a server
    (COMMAND GETKEYS, a round trip for each), which made a read of 64 empty shards cost
    30 ms. A redirection retries it by its key as usual."""
    if not isinstance(client, RedisCluster):
        pipe.xreadgroup(group, consumer, {stream: ">"}, count=count)
        return
    node = client.get_node_from_key(stream)  # type: ignore[no-untyped-call]
    command = ("XREADGROUP", b"GROUP", group, consumer, b"COUNT", count, b"STREAMS", stream)
    pipe.execute_command(*command, b">", target_nodes=node)


def announce(client: Client, messages: Iterable[tuple[str, bytes]]) -> None:
    """Publish each `(channel, message)`: in one round trip on one Redis, one by one on a
    Cluster (whose pipelines refuse PUBLISH)."""
    if isinstance(client, RedisCluster):
        for channel, message in messages:
            client.publish(channel, message)
        return
    pipe = client.pipeline(transaction=False)
    for channel, message in messages:
        pipe.publish(channel, message)
    pipe.execute()
