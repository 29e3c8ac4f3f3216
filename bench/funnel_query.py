"""How fast a flow's funnel and the first page of its drill-down are answered.

Fills a real Redis with one flow's figures for N triggered visitors (default 1,000,000)
over 30 days, written in the engine's own key layout (per-shard counters, drill-down rows
and status indexes, as `RedisStore.commit` writes them, but pipelined in bulk so the set-up
takes seconds instead of replaying N visitors through the engine). Then it times
`Metrics.funnel` over the 30 days and `Metrics.drill_down` (first page of 50, and a
filtered page) 200 times each and prints p50/p95 beside a baseline measured in the same
run: one Redis GET round trip. Target: p95 under 50 ms for both, at 1,000,000 visitors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

from engine.keys import Keys
from engine.metrics import Metrics
from engine.redis_server import EmbeddedRedis
from engine.store import STATUSES

FLOW = "win-back"
DAYS = [(dt.date(2026, 10, 1) + dt.timedelta(days=n)).isoformat() for n in range(30)]
START = 1_790_000_000.0


def fill(client: redis.Redis, keys: Keys, visitors: int) -> None:
    """Write counters, drill-down rows and indexes for `visitors` visitors."""
    rng = random.Random(3)
    pipe = client.pipeline(transaction=False)
    for number in range(visitors):
        visitor = f"visitor-{number}"
        shard = keys.shard(visitor)
        status = rng.choice(STATUSES)
        last = START + rng.random() * 30 * 86_400
        row = {
            "visitor_id": visitor,
            "status": status,
            "triggers": 1,
            "channel": "messenger",
            "first_trigger": last,
            "last_trigger": last,
            "conversation_id": f"c-{number}",
        }
        pipe.hset(keys.funnel(shard, FLOW), visitor, json.dumps(row))
        pipe.zadd(keys.funnel_index(shard, FLOW, status), {visitor: last})
        day = DAYS[int((last - START) // 86_400)]
        pipe.hincrby(keys.metrics(shard, FLOW, day), "all:triggered", 1)
        pipe.sadd(keys.metric_days(shard, FLOW), day)
        if number % 5_000 == 4_999:
            pipe.execute()
    pipe.execute()


def percentiles(action: Callable[[], object], runs: int = 200) -> tuple[float, float]:
    """(p50, p95) in milliseconds of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=1_000_000)
    visitors = parser.parse_args().visitors
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-", dir="/tmp"))
    try:
        with EmbeddedRedis(folder) as server:
            client = server.client()
            keys = Keys()
            started = time.perf_counter()
            fill(client, keys, visitors)
            print(f"filled {visitors:,} visitors in {time.perf_counter() - started:.0f} s")
            metrics = Metrics(client, keys)
            client.set("bench:probe", b"x")
            figures = {
                "baseline GET round trip": percentiles(lambda: client.get("bench:probe")),
                "funnel over 30 days": percentiles(lambda: metrics.funnel(FLOW, DAYS)),
                "drill-down first page": percentiles(lambda: metrics.drill_down(FLOW)),
                "drill-down, engaged only": percentiles(
                    lambda: metrics.drill_down(FLOW, status="engaged")
                ),
            }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base = figures["baseline GET round trip"][1]
    for name, (p50, p95) in figures.items():
        print(f"{name:28} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ({p95 / base:,.0f}x a GET)")
    worst = max(p95 for name, (_, p95) in figures.items() if not name.startswith("baseline"))
    print(f"target p95 < 50 ms at {visitors:,} visitors: {'met' if worst < 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
