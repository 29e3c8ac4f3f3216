"""Events per second of 1, 2 and 4 worker processes against a Redis Cluster.

The workload of `engine_throughput.py` (ten generated flows of 50 steps; every visitor
starts a conversation, writes, clicks a button of their run, writes again and gets an
agent's message), default 4,000 visitors, phase by phase: each phase's events are
published (untimed, the workers held), then the workers, each a process of its own with
its own Cluster client, drain the streams with `Worker.poll` (their shards balanced by the
leases before the first phase). Timed: from letting them go to the last event applied.
Timers are not fired.

The cluster is three masters with a replica each on this host (tests/cluster/local.py),
or the one REDIS_URL names (`redis+cluster://…`); with `--single`, one redis-server (on
REDIS_URL, else started for the run) instead, for comparison. Every process (the Redis
servers too) shares this host's CPUs: on 2 cores, more worker processes mostly take CPU
from each other and from Redis. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from _common import (
    T0,
    Workload,
    drop_prefix,
    generated_flows,
    host_load,
    make_engine,
    run_prefix,
)

from engine.client import Appender, Client, parley_client
from engine.core import Engine
from engine.events import Event
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis
from engine.store import RedisStore
from engine.streams import STREAM_LENGTH
from engine.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the suite's local cluster, tests/cluster/local.py
from tests.cluster.local import LocalCluster  # noqa: E402

BALANCE_SECONDS = 3.0  # the workers' leases rebalance every second: let them settle first
PUBLISH_CHUNK = 5_000


class SharedClock:
    """The benchmark's virtual time, which the main process moves for every worker."""

    def __init__(self, now: Synchronized[float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now.value


def work(
    url: str,
    prefix: str,
    name: str,
    now: Synchronized[float],
    done: Synchronized[int],
    go: Any,
    stop: Any,
) -> None:
    """One worker process: poll while `go` is set, keep the leases while it is not."""
    client = parley_client(url)
    keys = Keys(prefix=prefix)
    flows = FlowRegistry(client, keys)
    flows.start([], publish=False)  # the set the main process published
    worker = Worker(Engine(RedisStore(client, keys), flows, SharedClock(now)), name)
    while not stop.is_set():
        if not go.is_set():
            worker.leases.shards()  # renewed and rebalanced, nothing taken
            go.wait(0.05)
            continue
        applied = worker.poll()
        with done.get_lock():
            done.value += applied
        if not applied:
            time.sleep(0.002)
    worker.leases.release()


def publish(client: Client, keys: Keys, events: Sequence[Event]) -> None:
    appender = Appender(client)
    for start in range(0, len(events), PUBLISH_CHUNK):
        chunk = events[start : start + PUBLISH_CHUNK]
        entries = [(keys.events(keys.shard(e.visitor_id)), {"event": e.to_json()}) for e in chunk]
        appender.append(entries, STREAM_LENGTH)


def run(url: str, workers: int, visitors: int, seed: int) -> tuple[int, float]:
    """Every phase through `workers` processes: (events, seconds timed)."""
    client = parley_client(url)
    prefix = run_prefix("cluster")
    clock = ManualClock(T0)
    engine = make_engine(client, prefix, generated_flows(), clock)
    keys = engine.store.keys
    spawn = multiprocessing.get_context("spawn")
    now, done = spawn.Value("d", T0), spawn.Value("q", 0)
    go, stop = spawn.Event(), spawn.Event()
    processes = [
        spawn.Process(target=work, args=(url, prefix, f"w{n}", now, done, go, stop))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    time.sleep(BALANCE_SECONDS)
    total, seconds = 0, 0.0
    try:
        for _, build in Workload(visitors, seed).phases(engine):
            events = build()
            clock.advance(max(0.0, events[0].at - clock.now()) if events else 0.0)
            now.value = clock.now()
            publish(client, keys, events)
            target = done.value + len(events)
            started = time.perf_counter()
            go.set()
            while done.value < target:
                time.sleep(0.001)
            seconds += time.perf_counter() - started
            go.clear()
            total += len(events)
    finally:
        stop.set()
        go.set()
        for process in processes:
            process.join()
        drop_prefix(client, prefix)
        client.close()
    return total, seconds


@contextmanager
def target(single: bool) -> Iterator[tuple[str, str]]:
    """(url, description) of the Redis to run on."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url, f"REDIS_URL {url.partition('://')[0]}"
        return
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-cluster-", dir="/tmp"))
    try:
        if single:
            with EmbeddedRedis(folder) as server:
                yield server.url, "one embedded redis-server, unix socket, AOF everysec"
        else:
            cluster = LocalCluster(folder)
            cluster.start()
            try:
                yield cluster.url, "a local cluster: 3 masters + 3 replicas, TCP loopback"
            finally:
                cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=4_000, help="default 4000")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--single", action="store_true", help="one Redis, not a Cluster")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with target(args.single) as (url, name):
        print(f"redis: {name}; {os.cpu_count()} CPUs; {host_load()}")
        print(f"scale: {args.visitors:,} visitors, 10 flows x 50 steps, 64 shards")
        for workers in args.workers:
            events, seconds = run(url, workers, args.visitors, args.seed)
            print(
                f"{workers} worker process{'es' if workers > 1 else ''}: {events:,} events "
                f"in {seconds:.1f} s = {events / seconds:,.0f} events/s"
            )
    print(f"at the end: {host_load()}")


if __name__ == "__main__":
    main()
