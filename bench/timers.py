"""Pending visitor timeouts: Redis memory per timer, fire rate, lateness; against APScheduler.

Memory. `--timers` visitors (default 100,000; `--timers 1000000` for the target scale) each
get one pending `silence:` timer: an agent's `message.sent` for a `visitor_timeout` flow,
applied through `Engine.handle_batch`. The timers fall due at the target scale's density,
1,000,000 over 10 minutes (so 100,000 fall due within one minute), which keeps the
schedule's sorted sets about as full as at that scale. Reported: the schedule's bytes per
timer (MEMORY USAGE, all elements, of every schedule key: each shard's list of minutes and
its one sorted set per minute, which hold nothing else), how Redis encodes them, the
server's `zset-max-listpack-entries` that decides it (the embedded server's, as a
deployment without REDIS_URL runs it; with REDIS_URL, that server's), and the total bytes
per visitor (INFO used_memory after minus before, over the count: the schedule plus the
visitor state hash, which keeps its own copy of the timer). Target: at most 35 bytes per
pending timer in the schedule. Its floor: the same entries packed into one sorted set as
full as the server keeps compact (no key overheads).

Fire rate. A ManualClock moves past every due time, then `Engine.fire_due_timers` runs
until nothing is due: timers per second for one process. Each fire starts the flow (a
message with buttons, funnel counters, a step timeout), as in production. Target: at
least 10,000/s. Its floor: `_common.state_write_floor` with states of these visitors'
size (one state write per timer, pipelined, no engine work).

Lateness. With a ManualClock lateness means nothing, so this part uses the wall clock
(`SystemClock`): timers fall due at `--late-rate` a second (default 10,000, the fire
target's rate) for `--window` seconds of real time, a `Worker.run` loop runs in a thread
until every one has fired (or 10 s after the last was due), and each timer's lateness is
when its flow's first command reached the outbox minus when the timer was due; one not
fired by then counts as late as the stop. The outbox is a Redis stream and each entry id
starts with the server's clock in milliseconds at the XADD, which the commit's Lua script
runs; so lateness covers picking the timer up, applying it and committing, at 1 ms
resolution, on a server on this host (same clock). When the fire rate is below the rate
they fall due, the backlog grows through the window, and so does the lateness: a longer
window reads later. Target: p99 at most 1 s. Its floor: the p99 lateness that the backlog
alone would cause if timers fired at the fire-rate floor.

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
from typing import Any, cast

import redis
from _common import (
    FLOOR,
    PLACEMENTS,
    T0,
    Target,
    drop_prefix,
    event,
    host_load,
    make_engine,
    percentile,
    place,
    real_redis,
    run_prefix,
    state_write_floor,
    used_memory,
    visitor,
)

from engine.client import Client
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
DENSITY = 1_000_000 / 600  # timers falling due per second at the target scale
FIRE_RATE = 10_000  # timers/s: the fire target, and the rate lateness is measured at
PATIENCE = 10.0  # seconds past the last due time that the lateness run waits for fires


def silence_fired(visitor_id: str, flow_id: str) -> None:
    """The APScheduler job: what a scheduler-based design would run when a visitor is quiet."""
    print(f"visitor {visitor_id} quiet in {flow_id}")


def memory_usage(client: Client, keys: list[str]) -> int:
    """MEMORY USAGE of `keys`, counting every element (SAMPLES 0), summed."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return sum(found or 0 for found in pipe.execute())


def _encodings(client: Client, keys: list[str]) -> str:
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


def parley_memory(client: redis.Redis, count: int, fire: int | None = None) -> dict[str, Any]:
    """Schedule `count` timers at the target scale's density; memory, then the fire rate
    of `fire` of them (default all: once all are due, any share of them tells the rate)."""
    prefix = run_prefix("timers")
    clock = ManualClock(T0)
    engine = make_engine(client, prefix, [FLOW], clock)
    spread = count / DENSITY
    try:
        before = used_memory(client)
        seconds = schedule(engine, count, T0 + SILENCE, spread)
        found = _schedule_memory(engine, prefix, count)
        found["total_bytes"] = (used_memory(client) - before) / count
        clock.advance(SILENCE + spread)
        fired, fire = 0, count if fire is None else fire
        began = time.perf_counter()
        while fired < fire and (done := engine.fire_due_timers(min(2_000, fire - fired))):
            fired += done
        fire_seconds = time.perf_counter() - began
    finally:
        drop_prefix(client, prefix)
    return {
        **found,
        "spread": spread,
        "schedule_rate": count / seconds,
        "fired": fired,
        "fire_rate": fired / fire_seconds,
    }


def _schedule_memory(engine: Engine, prefix: str, count: int) -> dict[str, Any]:
    """What the pending schedule and the visitors' states take (before any fires)."""
    client, keys = engine.store.redis, engine.store.keys
    pending = engine.store.pending_timers()
    schedule_keys = [as_text(key) for key in client.scan_iter(f"{prefix}:*:timer*", 10_000)]
    sample = [keys.visitor(visitor(n).id) for n in range(0, count, max(1, count // 1000))]
    state, _ = engine.store.load(visitor(0).id)
    minute_sets = [key for key in schedule_keys if ":timers:" in key]
    return {
        "pending": pending,
        "schedule_bytes": memory_usage(client, schedule_keys) / pending,
        "packed_bytes": _packed_bytes(client, prefix, minute_sets),
        "schedule_keys": len(schedule_keys),
        "encodings": _encodings(client, schedule_keys),
        "state_bytes": memory_usage(client, sample) / len(sample),
        "timer_json": sum(len(json.dumps(asdict(t))) for t in state.timers.values()),
    }


def _packed_bytes(client: Client, prefix: str, sets: list[str]) -> float:
    """Bytes per entry of the schedule's own entries in one sorted set as full as the server
    keeps compact: what the entries take with no key overheads (the memory floor)."""
    limit = client.config_get("zset-max-listpack-entries").get("zset-max-listpack-entries")
    room = int(limit or 128)
    entries: dict[bytes, float] = {}
    for key in sets:
        found = client.zrange(key, 0, room - len(entries) - 1, withscores=True)
        entries.update(cast("list[tuple[bytes, float]]", found))
        if len(entries) >= room:
            break
    packed = f"{prefix}:packed"
    client.zadd(packed, entries)
    return memory_usage(client, [packed]) / len(entries)


def lateness(client: redis.Redis, rate: float, window: float) -> dict[str, float]:
    """Timers due at `rate` a second for `window` real seconds, fired by `Worker.run` in a
    thread until all have (or PATIENCE after the last was due); their lateness."""
    prefix = run_prefix("late")
    engine = make_engine(client, prefix, [FLOW], SystemClock())
    count = round(rate * window)
    try:
        due_base = time.time() + 1.0 + count / 3_000  # after scheduling ends
        schedule(engine, count, due_base, window)
        ready = time.time()
        stop = threading.Event()
        thread = threading.Thread(target=Worker(engine, "late").run, args=(stop,), daemon=True)
        thread.start()
        while (due := engine.store.next_due()) is not None and due <= due_base + window:
            if time.time() > due_base + window + PATIENCE:
                break
            time.sleep(0.2)
        stop.set()
        thread.join()
        stopped = time.time()
        late, unfired = _lateness(client, engine.store.keys, count, due_base, window, stopped)
    finally:
        drop_prefix(client, prefix)
    return {
        "count": count,
        "unfired": unfired,
        "early_start": due_base - ready,
        "p50": percentile(late, 0.50),
        "p99": percentile(late, 0.99),
        "max": max(late, default=float("nan")),
    }


def backlog_lateness(fire_rate: float, rate: float, window: float) -> float:
    """The p99 lateness that the backlog alone causes when timers fall due at `rate` a
    second for `window` seconds and fire at `fire_rate`: none if it keeps up."""
    return max(0.0, 0.99 * window * (rate / fire_rate - 1))


def _lateness(
    client: redis.Redis, keys: Keys, count: int, due_base: float, window: float, stopped: float
) -> tuple[list[float], int]:
    """Per timer: the first outbox entry of its visitor's timer event, minus its due (one
    not fired: `stopped` minus its due); and how many did not fire."""
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
    dues = {visitor(number).id: due_base + window * number / count for number in range(count)}
    late = [first.get(visitor_id, stopped) - due for visitor_id, due in dues.items()]
    return late, len(dues.keys() - first.keys())


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


def timer_targets(
    parley: dict[str, Any], late: dict[str, float], rate: float, window: float, floor: float
) -> list[Target]:
    """The timer targets; `floor` is the fire-rate floor (timers/s)."""
    return [
        Target("timers fired >= 10,000/s", parley["fire_rate"], FIRE_RATE, floor, "/s"),
        Target(
            f"timer lateness p99 <= 1 s, {rate:,.0f}/s due for {window:g} s",
            late["p99"],
            1.0,
            backlog_lateness(floor, rate, window),
            "s",
            most=True,
        ),
        Target(
            f"memory <= 35 bytes per pending timer, {parley['pending']:,} pending",
            parley["schedule_bytes"],
            35,
            parley["packed_bytes"],
            "bytes",
            most=True,
        ),
    ]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=100_000, help="default 100000")
    parser.add_argument("--apscheduler-jobs", type=int, help="default: as many as --timers")
    parser.add_argument("--late-rate", type=float, default=FIRE_RATE, help="default 10000/s")
    parser.add_argument("--window", type=float, default=2.0, help="seconds, default 2")
    parser.add_argument("--placement", choices=PLACEMENTS, default="split")
    args = parser.parse_args()
    jobs = args.apscheduler_jobs or args.timers
    with real_redis() as server:
        client = server.client
        print(f"server: {server.name}; {place(server, args.placement)}; {host_load()}")
        print(
            f"scale: {args.timers:,} pending timers; lateness: {args.late_rate:,.0f} timers/s "
            f"due for {args.window:g} s; APScheduler: {jobs:,} jobs"
        )
        limit = zset_limit(client)
        parley = parley_memory(client, args.timers)
        late = lateness(client, args.late_rate, args.window)
        floor = state_write_floor(client, state_bytes=round(parley["state_bytes"]))
        aps = apscheduler_memory(client, jobs)
    print(f"at the end: {host_load()}")
    print_parley(parley, late, floor, limit)
    if aps is None:
        print("apscheduler: not installed (pip install 'apscheduler>=3.11,<4'); skipped")
    else:
        print_apscheduler(aps, parley)
    for target in timer_targets(parley, late, args.late_rate, args.window, floor):
        print(target.line())


def print_parley(
    parley: dict[str, Any], late: dict[str, float], floor: float, limit: str = ""
) -> None:
    """Parley's timer figures."""
    print(
        f"parley: {parley['pending']:,.0f} timers scheduled at {parley['schedule_rate']:,.0f}/s "
        f"(message.sent through Engine.handle_batch), due over {parley['spread']:.0f} s"
    )
    print(
        f"  schedule ({parley['schedule_keys']:,} sorted sets: per shard, its minutes and "
        f"one set per minute): {parley['schedule_bytes']:.1f} bytes/timer; the same entries "
        f"in one full listpack {parley['packed_bytes']:.1f}; encodings: {parley['encodings']}"
        + (f"; server config: {limit}" if limit else "")
    )
    print(
        f"  total (INFO used_memory delta): {parley['total_bytes']:.0f} bytes/visitor; "
        f"visitor state hash {parley['state_bytes']:.0f} bytes, whose timer copy is "
        f"{parley['timer_json']:.0f} bytes of JSON"
    )
    print(
        f"  fire rate, one process (Engine.fire_due_timers): {parley['fire_rate']:,.0f} "
        f"timers/s ({parley['fired']:,.0f} fired); floor, pipelined, states of this size, "
        f"{FLOOR}: {floor:,.0f}/s"
    )
    print(
        f"  lateness, wall clock, Worker.run (idle wait 0.1 s): {late['count']:,.0f} timers, "
        f"{late['unfired']:,.0f} not fired in time; p50 {late['p50'] * 1000:.0f} ms, "
        f"p99 {late['p99'] * 1000:.0f} ms, max {late['max'] * 1000:.0f} ms"
    )
    if late["early_start"] < 0:
        print("  (scheduling ended after the first timers were due: early ones read late)")


def print_apscheduler(aps: dict[str, Any], parley: dict[str, Any]) -> None:
    """APScheduler's figures, and Parley's over them."""
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
