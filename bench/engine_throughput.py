"""Events per second of one engine process against a real Redis, unbatched and batched.

Ten generated flows of 50 steps (three start with the conversation, four on the visitor's
messages, three on silence; checked through `FlowRegistry.load`) run for many visitors:
default 8,000, which keeps a run near 2 minutes on 2 quiet cores; `--visitors 100000` is
the target scale. Every visitor goes through the same conversation, phase by phase:
`conversation.started`; a message (some hit keyword triggers, all reply to waiting
steps); a click on a button their run shows (payloads read from their state, untimed); a
second message (answers: emails, phones, numbers, words); an agent's `message.sent`
(starts the silence clocks); then the clock moves 3 hours on and every due timer fires
(silence clocks and `wait` steps).

Paths, each on fresh keys of the same server:

- unbatched: `Engine.handle` per event (one load and one commit round trip each); timers
  are read with `RedisStore.due_timers` and each fires through `Engine.handle`;
- batched: each phase's events are published with `EventStream.publish` on a pipeline
  (not timed), then one `Worker` drains the streams with `Worker.poll` (XREADGROUP of
  `--batch` entries per shard, `Engine.handle_batch`, XACK), which also fires the timers
  through `Engine.fire_due_timers`;
- with `--direct`, also `Engine.handle_batch` called directly, without streams.

The baseline is redis-py single-command round trips per second (a loop of INCR) on the
same server, measured before each path and after (the median is used). Client and server
are pinned to one CPU each (`--placement`; see `_common.place`). Targets: batched events/s
at least 2x the baseline, unbatched at least 0.5x. Figures are printed, never asserted.

Why a target is missed is printed too: per path, the CPU per event of this process and of
redis-server (INFO cpu) inside the timed parts; and a floor, the events/s of redis-py
pipelines doing one load and one state-writing script per event with no engine work.
Unbatched, each event waits for two round trips (load, then commit), so 0.5x is its
ceiling with an engine that took no time at all.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import redis
from _common import (
    PLACEMENTS,
    T0,
    VERDICT,
    Workload,
    drop_prefix,
    generated_flows,
    host_load,
    make_engine,
    place,
    real_redis,
    round_trips_per_second,
    run_prefix,
)

from engine.core import Engine
from engine.events import Event
from engine.ports import ManualClock
from engine.worker import EventStream, Worker

TIMERS_AFTER = 3 * 3600.0  # the clock moves this far before the timer phase
PUBLISH_CHUNK = 5_000  # events per publishing pipeline


class Runner:
    """One way of applying events; subclasses time `apply` and `fire`."""

    name = ""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine = engine
        self.clock = clock
        self.seconds = 0.0  # of the last timed block
        self.client_cpu = 0.0  # this process's CPU seconds in every timed block
        self.server_cpu = 0.0  # redis-server's CPU seconds in every timed block

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Time the block (`seconds`) and add up the CPU spent by this process and by Redis."""
        server, client = server_cpu(self.engine.store.redis), time.process_time()
        started = time.perf_counter()
        yield
        self.seconds = time.perf_counter() - started
        self.client_cpu += time.process_time() - client
        self.server_cpu += server_cpu(self.engine.store.redis) - server

    def apply(self, events: Sequence[Event]) -> float:
        """Apply the events; returns the seconds timed."""
        raise NotImplementedError

    def fire(self, workload: Workload) -> tuple[int, float]:
        """Fire every due timer; returns how many fired and the seconds timed."""
        raise NotImplementedError


class Unbatched(Runner):
    """`Engine.handle`, one event at a time."""

    name = "unbatched (Engine.handle per event)"

    def apply(self, events: Sequence[Event]) -> float:
        handle = self.engine.handle
        with self.timed():
            for item in events:
                handle(item)
        return self.seconds

    def fire(self, workload: Workload) -> tuple[int, float]:
        store, handle, now = self.engine.store, self.engine.handle, self.clock.now()
        fired = 0
        with self.timed():
            while due := store.due_timers(now):
                for visitor_id, timer, at in due:
                    handle(workload.timer_event(visitor_id, timer, at, now))
                fired += len(due)
        return fired, self.seconds


class Batched(Runner):
    """Streams: published on a pipeline (untimed), drained by one `Worker.poll` loop."""

    def __init__(self, engine: Engine, clock: ManualClock, batch: int) -> None:
        super().__init__(engine, clock)
        self.worker = Worker(engine, "bench", batch=batch)
        self.name = f"batched (EventStream -> Worker.poll, {batch} per shard read)"

    def apply(self, events: Sequence[Event]) -> float:
        client = self.engine.store.redis
        for start in range(0, len(events), PUBLISH_CHUNK):
            pipe = client.pipeline(transaction=False)
            stream = EventStream(pipe, self.engine.store.keys)
            for item in events[start : start + PUBLISH_CHUNK]:
                stream.publish(item)
            pipe.execute()
        with self.timed():
            while self.worker.poll():
                pass
        return self.seconds

    def fire(self, workload: Workload) -> tuple[int, float]:
        fired = 0
        with self.timed():
            while done := self.worker.poll():
                fired += done
        return fired, self.seconds


class Direct(Runner):
    """`Engine.handle_batch` on slices of the events, no streams; timers by fire_due_timers."""

    def __init__(self, engine: Engine, clock: ManualClock, size: int) -> None:
        super().__init__(engine, clock)
        self.size = size
        self.name = f"direct (Engine.handle_batch, {size} events a call)"

    def apply(self, events: Sequence[Event]) -> float:
        with self.timed():
            for start in range(0, len(events), self.size):
                self.engine.handle_batch(events[start : start + self.size])
        return self.seconds

    def fire(self, workload: Workload) -> tuple[int, float]:
        fired = 0
        with self.timed():
            while done := self.engine.fire_due_timers():
                fired += done
        return fired, self.seconds


def server_cpu(client: redis.Redis) -> float:
    """CPU seconds redis-server has used (INFO cpu, user and system)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def pipelined_floor(client: redis.Redis, events: int = 6_400, state_bytes: int = 3_000) -> float:
    """Events/s of one load and one commit per event with no engine work at all.

    A pipeline of one HMGET per visitor, then one of a script per visitor that only writes
    a state of the workload's typical size (~3 KB): what redis-py and Redis themselves
    cost. A batched engine, which does both and more per event, cannot go faster.
    """
    prefix = run_prefix("floor")
    script = client.register_script(
        "redis.call('HSET', KEYS[1], 'rev', ARGV[1], 'state', ARGV[2]) return 1"
    )
    state = b"x" * state_bytes
    keys = [f"{prefix}:{{p{n % 64}}}:visitor:v{n}" for n in range(events)]
    started = time.perf_counter()
    loads = client.pipeline(transaction=False)
    for key in keys:
        loads.hmget(key, "rev", "state")
    loads.execute()
    commits = client.pipeline(transaction=False)
    for key in keys:
        script(keys=[key], args=[1, state], client=commits)
    commits.execute()
    rate = events / (time.perf_counter() - started)
    drop_prefix(client, prefix)
    return rate


def run_path(
    client: redis.Redis,
    workload: Workload,
    make: Callable[[Engine, ManualClock], Runner],
) -> tuple[Runner, list[tuple[str, int, float]]]:
    """Run the whole conversation through one path; per phase: (name, events, seconds)."""
    prefix = run_prefix("throughput")
    clock = ManualClock(T0)
    engine = make_engine(client, prefix, generated_flows(), clock)
    runner = make(engine, clock)
    rows: list[tuple[str, int, float]] = []
    try:
        for label, build in workload.phases(engine):
            events = build()
            clock.advance(max(0.0, events[0].at - clock.now()) if events else 0.0)
            rows.append((label, len(events), runner.apply(events)))
        clock.advance(TIMERS_AFTER)
        fired, seconds = runner.fire(workload)
        rows.append(("timer.fired", fired, seconds))
    finally:
        drop_prefix(client, prefix)
    return runner, rows


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=8_000, help="default 8000")
    parser.add_argument("--batch", type=int, default=100, help="Worker entries per shard read")
    parser.add_argument("--placement", choices=PLACEMENTS, default="split")
    parser.add_argument(
        "--direct", action="store_true", help="also time Engine.handle_batch without streams"
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    workload = Workload(args.visitors, args.seed)
    runners: list[Callable[[Engine, ManualClock], Runner]] = [
        Unbatched,
        lambda engine, clock: Batched(engine, clock, args.batch),
    ]
    if args.direct:
        runners.append(lambda engine, clock: Direct(engine, clock, 64 * args.batch))
    with real_redis() as server:
        print(f"server: {server.name}; {place(server, args.placement)}; {host_load()}")
        print(f"scale: {args.visitors:,} visitors, 10 flows x 50 steps, 64 shards, 1 process")
        baselines, results = [], []
        for make in runners:  # the baseline around every path: other load on the host varies
            baselines.append(round_trips_per_second(server.client))
            results.append(run_path(server.client, workload, make))
        baselines.append(round_trips_per_second(server.client))
        floor = pipelined_floor(server.client)
    print(f"at the end: {host_load()}")
    baseline = statistics.median(baselines)
    print(
        f"baseline: redis-py single-command round trips (INCR): {baseline:,.0f}/s "
        f"(median of {', '.join(f'{b:,.0f}' for b in baselines)}, before each path and after)"
    )
    print(
        f"floor: redis-py pipelines of one HMGET and one state-writing script per event, "
        f"no engine work: {floor:,.0f} events/s = {floor / baseline:.2f}x the baseline"
    )
    mix = ", ".join(f"{label} {count:,}" for label, count, _ in results[-1][1])
    print(f"event mix (last path): {mix}")
    rates = []
    for runner, rows in results:
        total = sum(count for _, count, _ in rows)
        seconds = sum(spent for _, _, spent in rows)
        rates.append(total / seconds)
        print(f"{runner.name}: {total:,} events in {seconds:.1f} s = {rates[-1]:,.0f} events/s")
        print(
            f"    per event: {seconds / total * 1e6:,.0f} us, of which CPU of this process "
            f"{runner.client_cpu / total * 1e6:,.0f} us and of redis-server "
            f"{runner.server_cpu / total * 1e6:,.0f} us"
        )
        for label, count, spent in rows:
            print(f"    {label:<24} {count:>9,} events {count / spent:>9,.0f}/s")
    unbatched, batched = rates[:2]
    print(
        f"ratio batched / baseline: {batched / baseline:.2f} "
        f"(target >= 2: {VERDICT[batched / baseline >= 2]})"
    )
    print(
        f"ratio unbatched / baseline: {unbatched / baseline:.2f} "
        f"(target >= 0.5: {VERDICT[unbatched / baseline >= 0.5]})"
    )
    print(f"ratio batched / unbatched: {batched / unbatched:.1f}")


if __name__ == "__main__":
    main()
