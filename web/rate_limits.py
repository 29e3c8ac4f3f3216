"""Rate limits: how often one address, visitor or token may do one thing, in every process.

The counts are kept in Redis (the `limits` package's sliding window counters), so every web
process of a deployment counts together. Each rule is a `limits` string such as
`30/minute`, set by a `PARLEY_RATE_*` variable (docs/operations.md), or `off`. While Redis
is away nothing is limited: a visitor's message is still taken (it waits in the outbox)
rather than refused for want of a counter.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import fields

from flask import request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import RedisClusterStorage, RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from redis.cluster import RedisCluster

from chat.errors import RateLimited
from engine.client import Client
from settings import RateRules

log = logging.getLogger(__name__)


class Limiter:
    """Counts hits per rule and who, in Redis; refuses what is over its rule."""

    def __init__(
        self, client: Client, prefix: str, rules: RateRules, url: str | None = None
    ) -> None:
        storage = _storage(client, f"{prefix}:limits", url)
        self.window = SlidingWindowCounterRateLimiter(storage)
        self.rules: dict[str, RateLimitItem | None] = {}
        for rule in fields(rules):
            value = getattr(rules, rule.name)
            self.rules[rule.name] = None if value is None else parse(value)

    def hit(self, rule: str, who: str) -> None:
        """Count one `rule` by `who`; RateLimited when that goes over the limit."""
        item = self.rules[rule]
        if item is not None and not self._ask(lambda: self.window.hit(item, rule, who)):
            raise RateLimited(self._retry_after(item, rule, who))

    def check(self, rule: str, who: str) -> None:
        """RateLimited if `who` is over `rule` already, without counting anything."""
        item = self.rules[rule]
        if item is not None and not self._ask(lambda: self.window.test(item, rule, who)):
            raise RateLimited(self._retry_after(item, rule, who))

    def _retry_after(self, item: RateLimitItem, rule: str, who: str) -> int:
        try:
            reset = self.window.get_window_stats(item, rule, who).reset_time
        except StorageError:
            return 1
        return max(1, math.ceil(reset - time.time()))

    @staticmethod
    def _ask(question: Callable[[], bool]) -> bool:
        try:
            return question()
        except StorageError as err:
            log.warning("rate limits not counted, Redis does not answer: %s", err)
            return True


def _storage(client: Client, prefix: str, url: str | None) -> RedisStorage:
    """The counters' storage: on `client`'s connections, or on a Cluster (`url`) a client
    of its own, since `limits` builds its Cluster client itself. Each counter's two windows
    share a hash tag, so its script stays in one slot."""
    if not isinstance(client, RedisCluster):
        return RedisStorage(
            "redis://",
            connection_pool=client.connection_pool,
            key_prefix=prefix,
            wrap_exceptions=True,
        )
    assert url is not None, "a Cluster client comes from a redis+cluster:// URL"
    scheme, _, rest = url.partition("://")
    tls: dict[str, bool] = {"ssl": True} if scheme.startswith("rediss") else {}
    return RedisClusterStorage(
        f"redis+cluster://{rest}",
        key_prefix=prefix,
        wrap_exceptions=True,
        socket_timeout=10.0,
        socket_connect_timeout=2.0,
        **tls,
    )


def address() -> str:
    """The address the request came from (the client's, behind trusted proxies)."""
    return request.remote_addr or "unknown"
