"""Pending visitor timeouts: Redis memory per timer, fire rate, lateness; against APScheduler.

Memory. `--timers` visitors (default 100,000; `--timers 1000000` for the target scale) each
get one pending `silence:` timer: an agent's `message.sent` for a `visitor_timeout` flow,
applied through `Engine.handle_batch`. Reported: the schedule's bytes per timer (MEMORY
USAGE, all elements, of every schedule key: each shard's list of minutes and its one
sorted set per minute, which hold nothing else), how Redis encodes them, the server's
`zset-max-listpack-entries` that decides it (the embedded server's, as a deployment
without REDIS_URL runs it; with REDIS_URL, that server's), and the total bytes per visitor
(INFO used_memory after minus before, over the count: the schedule plus the visitor state
hash, which keeps its own copy of the timer). Target: at most 60 bytes per pending timer
in the schedule.

Fire rate. A ManualClock moves past every due time, then `Engine.fire_due_timers` runs
until nothing is due: timers per second for one process. Each fire starts the flow (a
message with buttons, funnel counters, a step timeout), as in production.

Lateness. With a ManualClock lateness means nothing, so this part uses the wall clock
(`SystemClock`): `--late-timers` timers fall due evenly over `--window` seconds of real
time, a `Worker.run` loop runs in a thread through the window, and each timer's lateness
is when its flow's first command reached the outbox minus when the timer was due. The
outbox is a Redis stream and each entry id starts with the server's clock in milliseconds
at the XADD, which the commit's Lua script runs; so lateness covers picking the timer up,
applying it and committing, at 1 ms resolution, on a server on this host (same clock).

APScheduler. The same number of jobs (`--apscheduler-jobs` to change) goes through
APScheduler 3.x's `RedisJobStore` on the same server: `add_job` with a `date` trigger
on a scheduler started paused, so every job stays pending. Reported: bytes per job (MEMORY
USAGE of its jobs hash and run-times sorted set), and Parley's bytes per timer over it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import threading
import time
from collections import Counter
from dataclasses import asdict
from importlib import metadata
from typing import Any

import redis
from _common import (
    PLACEMENTS,
    T0,
    VERDICT,
    drop_prefix,
    event,
    host_load,
    make_engine,
    percentile,
    place,
    real_redis,
    run_prefix,
    used_memory,
    visitor,
)

from engine.core import Engine
from engine.events import Event
from engine.keys import Keys, as_text
from engine.ports import ManualClock, SystemClock
from engine.worker import Worker

SILENCE = 15 * 60  # the flow's `after`, in seconds
FLOW = """
id: nudge
trigger:
  visitor_timeout:
    after: 15m
start: nudge
steps:
  nudge:
    say: "Hi {{ contact.display_name }}, still there?"
    buttons:
      - {label: "Yes", goto: help}
      - {label: "No thanks", goto: done}
    on: {reply: help, timeout: {after: 1d, goto: done}}
  help:
    say: "Connecting you with a person."
    do:
      - hosting: off
    end: true
  done:
    end: true
"""
CHUNK = 5_000  # events per handle_batch call while scheduling
TARGET_BYTES = 60


def silence_fired(visitor_id: str, flow_id: str) -> None:
    """The APScheduler job: what a scheduler-based design would run when a visitor is quiet."""
    print(f"visitor {visitor_id} quiet in {flow_id}")


def memory_usage(client: redis.Redis, keys: list[str]) -> int:
    """MEMORY USAGE of `keys`, counting every element (SAMPLES 0), summed."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return sum(found or 0 for found in pipe.execute())


def _encodings(client: redis.Redis, keys: list[str]) -> str:
    """How Redis encodes the schedule's sorted sets, e.g. `listpack 640, skiplist 64`."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.object("encoding", key)
    counts = Counter(as_text(found) for found in pipe.execute())
    return ", ".join(f"{name} {count:,}" for name, count in counts.most_common())


def zset_limit(client: redis.Redis) -> str:
    """The server's `zset-max-listpack-entries`, which decides the schedule's encoding."""
    found = client.config_get("zset-max-*-entries")
    return ", ".join(f"{name} {value}" for name, value in found.items())


def schedule(engine: Engine, count: int, due_base: float, spread: float) -> float:
    """Give `count` visitors a silence timer due in [due_base, due_base + spread); seconds."""
    spent = 0.0
    for start in range(0, count, CHUNK):
        events: list[Event] = []
        for number in range(start, min(count, start + CHUNK)):
            who = visitor(number)
            at = due_base + spread * number / count - SILENCE
            events.append(
                event(who, f"{who.id}:sent", "message.sent", at, text="On it", sender="agent")
            )
        began = time.perf_counter()
        engine.handle_batch(events)
        spent += time.perf_counter() - began
    return spent


def parley_memory(client: redis.Redis, count: int) -> dict[str, Any]:
    """Schedule `count` timers; the schedule's and the total memory, and the fire rate."""
    prefix = run_prefix("timers")
    clock = ManualClock(T0)
    engine = make_engine(client, prefix, [FLOW], clock)
    keys = engine.store.keys
    try:
        before = used_memory(client)
        seconds = schedule(engine, count, T0 + SILENCE, 600.0)
        total = used_memory(client) - before
        pending = engine.store.pending_timers()
        schedule_keys = [as_text(key) for key in client.scan_iter(f"{prefix}:*:timer*", 10_000)]
        schedule_bytes = memory_usage(client, schedule_keys)
        encodings = _encodings(client, schedule_keys)
        sample = [keys.visitor(visitor(n).id) for n in range(0, count, max(1, count // 1000))]
        state_bytes = memory_usage(client, sample) / len(sample)
        state, _ = engine.store.load(visitor(0).id)
        timer_json = sum(len(json.dumps(asdict(t))) for t in state.timers.values())
        clock.advance(SILENCE + 600.0)
        fired = 0
        began = time.perf_counter()
        while done := engine.fire_due_timers():
            fired += done
        fire_seconds = time.perf_counter() - began
    finally:
        drop_prefix(client, prefix)
    return {
        "pending": pending,
        "schedule_rate": count / seconds,
        "schedule_bytes": schedule_bytes / pending,
        "schedule_keys": len(schedule_keys),
        "encodings": encodings,
        "total_bytes": total / count,
        "state_bytes": state_bytes,
        "timer_json": timer_json,
        "fired": fired,
        "fire_rate": fired / fire_seconds,
    }


def lateness(client: redis.Redis, count: int, window: float) -> dict[str, float]:
    """Timers due over `window` real seconds, fired by a Worker loop; their lateness."""
    prefix = run_prefix("late")
    engine = make_engine(client, prefix, [FLOW], SystemClock())
    keys = engine.store.keys
    try:
        worker = Worker(engine, "late")
        due_base = time.time() + 2.0 + count / 2_000  # after scheduling ends
        schedule(engine, count, due_base, window)
        ready = time.time()
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        time.sleep(max(0.0, due_base + window + 2.0 - time.time()))
        stop.set()
        thread.join()
        late = _lateness(client, keys, count, due_base, window)
    finally:
        drop_prefix(client, prefix)
    return {
        "fired": len(late),
        "early_start": due_base - ready,
        "p50": percentile(late, 0.50),
        "p99": percentile(late, 0.99),
        "max": max(late, default=float("nan")),
    }


def _lateness(
    client: redis.Redis, keys: Keys, count: int, due_base: float, window: float
) -> list[float]:
    """Per fired timer: the first outbox entry of its visitor's timer event, minus its due."""
    pipe = client.pipeline(transaction=False)
    for shard in range(keys.shards):
        pipe.xrange(keys.commands(shard))
    first: dict[str, float] = {}
    for entries in pipe.execute():
        for entry_id, fields in entries:
            command = json.loads(fields[b"command"])
            if ":timer:silence:" not in command["key"]:
                continue
            at = int(as_text(entry_id).partition("-")[0]) / 1000
            first[command["visitor_id"]] = min(at, first.get(command["visitor_id"], at))
    late = []
    for number in range(count):
        found = first.get(visitor(number).id)
        if found is not None:
            late.append(found - (due_base + window * number / count))
    return late


def apscheduler_memory(client: redis.Redis, count: int) -> dict[str, Any] | None:
    """`count` pending APScheduler jobs in a RedisJobStore; None when it is not installed."""
    try:
        background = importlib.import_module("apscheduler.schedulers.background")
        stores = importlib.import_module("apscheduler.jobstores.redis")
    except ImportError:
        return None
    prefix = run_prefix("aps")
    jobs_key, times_key = f"{prefix}:jobs", f"{prefix}:run_times"
    store = stores.RedisJobStore(
        jobs_key=jobs_key, run_times_key=times_key, connection_pool=client.connection_pool
    )
    scheduler = background.BackgroundScheduler(jobstores={"default": store}, timezone=dt.UTC)
    scheduler.start(paused=True)
    try:
        before = used_memory(client)
        base = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=SILENCE)
        began = time.perf_counter()
        for number in range(count):
            who = visitor(number).id
            scheduler.add_job(
                silence_fired,
                "date",
                run_date=base + dt.timedelta(seconds=600.0 * number / count),
                args=(who, "nudge"),
                id=f"silence:{who}",
            )
        seconds = time.perf_counter() - began
        total = used_memory(client) - before
        pending = int(client.zcard(times_key))
        jobs = memory_usage(client, [jobs_key])
        times = memory_usage(client, [times_key])
    finally:
        scheduler.shutdown(wait=False)
        drop_prefix(client, prefix)
    return {
        "pending": pending,
        "add_rate": count / seconds,
        "job_bytes": (jobs + times) / pending,
        "times_bytes": times / pending,
        "total_bytes": total / count,
        "version": metadata.version("apscheduler"),
    }


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=100_000, help="default 100000")
    parser.add_argument("--apscheduler-jobs", type=int, help="default: as many as --timers")
    parser.add_argument("--late-timers", type=int, default=5_000, help="default 5000")
    parser.add_argument("--window", type=float, default=10.0, help="seconds, default 10")
    parser.add_argument("--placement", choices=PLACEMENTS, default="split")
    args = parser.parse_args()
    jobs = args.apscheduler_jobs or args.timers
    with real_redis() as server:
        client = server.client
        print(f"server: {server.name}; {place(server, args.placement)}; {host_load()}")
        print(
            f"scale: {args.timers:,} pending timers; lateness: {args.late_timers:,} timers "
            f"over {args.window:g} s; APScheduler: {jobs:,} jobs"
        )
        limit = zset_limit(client)
        parley = parley_memory(client, args.timers)
        late = lateness(client, args.late_timers, args.window)
        aps = apscheduler_memory(client, jobs)
    print(f"at the end: {host_load()}")
    met = VERDICT[parley["schedule_bytes"] <= TARGET_BYTES]
    print(
        f"parley: {parley['pending']:,.0f} timers scheduled at {parley['schedule_rate']:,.0f}/s "
        "(message.sent through Engine.handle_batch)"
    )
    print(
        f"  schedule ({parley['schedule_keys']:,} sorted sets: per shard, its minutes and "
        f"one set per minute): {parley['schedule_bytes']:.1f} bytes/timer "
        f"(target <= {TARGET_BYTES}: {met}); encodings: {parley['encodings']}; "
        f"server config: {limit}"
    )
    print(
        f"  total (INFO used_memory delta): {parley['total_bytes']:.0f} bytes/visitor; "
        f"visitor state hash {parley['state_bytes']:.0f} bytes, whose timer copy is "
        f"{parley['timer_json']:.0f} bytes of JSON"
    )
    print(
        f"  fire rate, one process (Engine.fire_due_timers): {parley['fire_rate']:,.0f} "
        f"timers/s ({parley['fired']:,.0f} fired)"
    )
    print(
        f"  lateness, wall clock, Worker.run (idle wait 0.1 s): {late['fired']:,.0f} of "
        f"{args.late_timers:,} fired; p50 {late['p50'] * 1000:.0f} ms, "
        f"p99 {late['p99'] * 1000:.0f} ms, max {late['max'] * 1000:.0f} ms"
    )
    if late["early_start"] < 0:
        print("  (scheduling ended after the first timers were due: early ones read late)")
    if aps is None:
        print("apscheduler: not installed (pip install 'apscheduler>=3.11,<4'); skipped")
        return
    print(
        f"apscheduler {aps['version']} RedisJobStore: {aps['pending']:,.0f} pending jobs "
        f"added at {aps['add_rate']:,.0f}/s"
    )
    print(
        f"  jobs hash + run-times sorted set: {aps['job_bytes']:.1f} bytes/job "
        f"(run-times sorted set alone {aps['times_bytes']:.1f}); "
        f"used_memory delta {aps['total_bytes']:.0f} bytes/job"
    )
    print(
        f"ratio parley schedule bytes/timer / apscheduler bytes/job: "
        f"{parley['schedule_bytes'] / aps['job_bytes']:.2f} "
        f"(total bytes/visitor over bytes/job: {parley['total_bytes'] / aps['job_bytes']:.2f})"
    )


if __name__ == "__main__":
    main()
