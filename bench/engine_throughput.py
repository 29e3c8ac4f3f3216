"""Events per second of one engine process against a real Redis, unbatched and batched.

Ten generated flows of 50 steps (three start with the conversation, four on the visitor's
messages, three on silence; checked through `FlowRegistry.load`) run for many visitors:
default 2,000, about 2 minutes on 2 busy cores; `--visitors 100000` is the target scale
(`bench/targets.py` runs 150 with the other targets). Every visitor goes through the
same conversation, phase by phase: `conversation.started`; a message (some hit keyword
triggers, all reply to waiting steps); a click on a button their run shows (payloads read
from their state, untimed); a second message (answers: emails, phones, numbers, words);
an agent's `message.sent` (starts the silence clocks); then the clock moves 3 hours on
and every due timer fires (silence clocks and `wait` steps).

Paths, each on fresh keys of the same server:

- unbatched: `Engine.handle` per event (a commit round trip each, and a load for a state
  not kept); timers
  are read with `RedisStore.due_timers` and each fires through `Engine.handle`;
- batched: each phase's events are published with `EventStream.publish` on a pipeline
  (not timed), then one `Worker` drains the streams with `Worker.poll` (XREADGROUP of
  `--batch` entries per shard, `Engine.handle_batch`, XACK), which also fires the timers
  through `Engine.fire_due_timers`;
- with `--direct`, also `Engine.handle_batch` called directly, without streams.

The baseline is redis-py single-command round trips per second (a loop of INCR) on the
same server. Client and server are pinned to one CPU each (`--placement`; see
`_common.place`). Targets: batched events/s at least 2x the baseline (3x the moonshot),
unbatched at least 0.5x. Figures are printed, never asserted.

Why a target is missed is printed too: per path, the CPU per event of this process and of
redis-server (INFO cpu) inside the timed parts; and the floors (`_common.state_write_floor`):
the events/s of one state-writing script per event with no engine work, pipelined for the
batched path, one round trip after the other for the unbatched one (which waits for its
commit's round trip, so about 1x is its ceiling). Last, the batched path's own commits,
recorded as it sent them, are replayed on their emptied keys with no engine work: what
Redis needs for the engine's writes alone, a ceiling for any engine that writes as much.
The baseline and the floors are measured together before each path and after, and their
medians used (`_common.Yardstick`).
"""

from __future__ import annotations

import argparse
import math
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

import redis
from _common import (
    PLACEMENTS,
    T0,
    Target,
    Workload,
    Yardstick,
    drop_prefix,
    generated_flows,
    host_load,
    make_engine,
    place,
    real_redis,
    run_prefix,
)
from redis.commands.core import Script

from engine.client import Client
from engine.core import Engine
from engine.events import Event
from engine.ports import ManualClock
from engine.wire import Sending, Wire
from engine.worker import EventStream, Worker

TIMERS_AFTER = 3 * 3600.0  # the clock moves this far before the timer phase
PUBLISH_CHUNK = 5_000  # events per publishing pipeline
RECORDED = 20_000  # about as many commits of the batched path are kept to replay (~5 KB each)
REPLAY_CHUNK = 1_000  # recorded commits per round trip when replayed


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


class RecordingWire(Wire):
    """The store's wire, counting the calls of its one script (the commit) and keeping all
    those of one visitor in `every`, chosen by their key, to replay."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.script: Script | None = None
        self.calls: list[tuple[Sequence[str], Sequence[Any]]] = []
        self.sent = 0
        self.every = 1

    def send_script(
        self, sent: Sending, script: Script, calls: Iterable[tuple[Sequence[str], Sequence[Any]]]
    ) -> None:
        calls = list(calls)
        self.script = script
        self.sent += len(calls)
        # KEYS[1] is the visitor's: all of a visitor's commits are kept, or none
        self.calls += [call for call in calls if zlib.crc32(call[0][0].encode()) % self.every == 0]
        super().send_script(sent, script, calls)


class Batched(Runner):
    """Streams: published on a pipeline (untimed), drained by one `Worker.poll` loop."""

    def __init__(self, engine: Engine, clock: ManualClock, batch: int) -> None:
        super().__init__(engine, clock)
        self.wire = engine.store.wire = RecordingWire(engine.store.redis)
        self.worker = Worker(engine, "bench", batch=batch)
        self.replayed = 0.0  # events/s of this path's commits replayed alone (replay_commits)
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


def replay_commits(client: redis.Redis, wire: RecordingWire, events: int, prefix: str) -> float:
    """Events/s of the recorded commits sent again on their emptied keys, with no engine
    work: how fast Redis does what the engine's commits ask, a batch's worth at a time.
    A commit holds a visitor's events of one batch: commits/s times the path's events per
    commit."""
    drop_prefix(client, prefix)
    plain = Wire(client)  # not the recording one: the replay must not record itself
    started = time.perf_counter()
    for start in range(0, len(wire.calls), REPLAY_CHUNK):
        plain.run_script(cast(Script, wire.script), wire.calls[start : start + REPLAY_CHUNK])
    rate = len(wire.calls) / (time.perf_counter() - started) * events / wire.sent
    drop_prefix(client, prefix)
    return rate


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


def server_cpu(client: Client) -> float:
    """CPU seconds redis-server has used (INFO cpu, user and system)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


Maker = Callable[[Engine, ManualClock], Runner]
Rows = list[tuple[str, int, float]]  # per phase: (name, events, seconds)


def run_path(client: redis.Redis, workload: Workload, make: Maker) -> tuple[Runner, Rows]:
    """Run the whole conversation through one path; per phase: (name, events, seconds)."""
    prefix = run_prefix("throughput")
    clock = ManualClock(T0)
    engine = make_engine(client, prefix, generated_flows(), clock)
    runner = make(engine, clock)
    if isinstance(runner, Batched):  # keep the commits of a sample of visitors: ~9 each
        runner.wire.every = math.ceil(len(workload.visitors) * 9 / RECORDED)
    rows: Rows = []
    try:
        for label, build in workload.phases(engine):
            events = build()
            clock.advance(max(0.0, events[0].at - clock.now()) if events else 0.0)
            rows.append((label, len(events), runner.apply(events)))
        clock.advance(TIMERS_AFTER)
        fired, seconds = runner.fire(workload)
        rows.append(("timer.fired", fired, seconds))
        if isinstance(runner, Batched):
            applied = sum(count for _, count, _ in rows)
            runner.replayed = replay_commits(client, runner.wire, applied, prefix)
    finally:
        drop_prefix(client, prefix)
    return runner, rows


def run_paths(
    client: redis.Redis, workload: Workload, makers: Sequence[Maker], yardstick: Yardstick
) -> list[tuple[Runner, Rows]]:
    """Each path in turn, with the yardstick measured before each and after."""
    results = []
    for make in makers:
        yardstick.measure(client)
        results.append(run_path(client, workload, make))
    yardstick.measure(client)
    return results


def events_per_second(rows: Rows) -> float:
    """A path's events over its timed seconds, all phases together."""
    return sum(count for _, count, _ in rows) / sum(spent for _, _, spent in rows)


def throughput_targets(yardstick: Yardstick, unbatched: float, batched: float) -> list[Target]:
    """The targets of both paths, as ratios to the round-trip baseline."""
    baseline, pipelined = yardstick.baseline, yardstick.floor() / yardstick.baseline
    return [
        Target("batched >= 2x round trips", batched / baseline, 2, pipelined, "x"),
        Target("batched >= 3x round trips (moonshot)", batched / baseline, 3, pipelined, "x"),
        Target(
            "unbatched >= 0.5x round trips",
            unbatched / baseline,
            0.5,
            yardstick.floor(pipelined=False) / baseline,
            "x",
        ),
    ]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=2_000, help="default 2000")
    parser.add_argument("--batch", type=int, default=100, help="Worker entries per shard read")
    parser.add_argument("--placement", choices=PLACEMENTS, default="split")
    parser.add_argument(
        "--direct", action="store_true", help="also time Engine.handle_batch without streams"
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    workload = Workload(args.visitors, args.seed)
    makers: list[Maker] = [Unbatched, partial(Batched, batch=args.batch)]
    if args.direct:
        makers.append(partial(Direct, size=64 * args.batch))
    with real_redis() as server:
        print(f"server: {server.name}; {place(server, args.placement)}; {host_load()}")
        print(f"scale: {args.visitors:,} visitors, 10 flows x 50 steps, 64 shards, 1 process")
        yardstick = Yardstick()
        results = run_paths(server.client, workload, makers, yardstick)
    print(f"at the end: {host_load()}")
    for line in yardstick.lines():
        print(line)
    mix = ", ".join(f"{label} {count:,}" for label, count, _ in results[-1][1])
    print(f"event mix (last path): {mix}")
    for runner, rows in results:
        _print_path(runner, rows)
    unbatched, batched = (events_per_second(rows) for _, rows in results[:2])
    print(f"ratio batched / unbatched: {batched / unbatched:.1f}")
    replayed = cast(Batched, results[1][0]).replayed
    print(
        f"the batched path's commits replayed alone (Redis doing what the engine's writes ask, "
        f"no engine work): {replayed:,.0f} events/s = {replayed / yardstick.baseline:.2f}x "
        "the baseline: a batched engine that writes what this one writes stays below that"
    )
    for target in throughput_targets(yardstick, unbatched, batched):
        print(target.line())


def _print_path(runner: Runner, rows: Rows) -> None:
    total, seconds = sum(count for _, count, _ in rows), sum(spent for _, _, spent in rows)
    print(f"{runner.name}: {total:,} events in {seconds:.1f} s = {total / seconds:,.0f} events/s")
    print(
        f"    per event: {seconds / total * 1e6:,.0f} us, of which CPU of this process "
        f"{runner.client_cpu / total * 1e6:,.0f} us and of redis-server "
        f"{runner.server_cpu / total * 1e6:,.0f} us"
    )
    for label, count, spent in rows:
        print(f"    {label:<24} {count:>9,} events {count / spent:>9,.0f}/s")


if __name__ == "__main__":
    main()
