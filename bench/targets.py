"""The engine's speed targets, measured in one run of under a minute: a line each, MET or MISSED.

Runs the measuring functions of `engine_throughput.py`, `naive.py` and `timers.py` at a
small scale, on one Redis, and prints each target once at the end; a missed one also
prints its floor, the best figure this machine allows whatever the engine does, measured
in the same run without the engine (see each script's docstring). Ratios are against the
baseline of this run: redis-py single-command round trips per second, measured before
each path, after the naive race and after the timers (the median is used).

Each script also runs alone, with its own options and more detail, and prints its own
targets the same way; `--visitors 100000` on `engine_throughput.py` and `--timers 1000000`
on `timers.py` are the target scales. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import engine_throughput
import naive
import timers
from _common import (
    PLACEMENTS,
    Workload,
    host_load,
    place,
    real_redis,
    round_trips_per_second,
    state_write_floor,
)

BASELINE_COUNT = 1_000  # INCRs a baseline loop: three loops take about a second here
NAIVE_BATCH = 500  # events per Engine.handle_batch call in the naive race
FIRED = 2_000  # of the pending timers, how many fire to tell the fire rate


def main() -> None:
    """Measure everything, then print the figures and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=200, help="throughput, default 200")
    parser.add_argument("--batch", type=int, default=100, help="Worker entries per shard read")
    parser.add_argument("--naive-visitors", type=int, default=40, help="default 40")
    parser.add_argument("--timers", type=int, default=10_000, help="pending, default 10000")
    parser.add_argument("--window", type=float, default=0.5, help="lateness, s; default 0.5")
    parser.add_argument("--placement", choices=PLACEMENTS, default="split")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    began = time.perf_counter()
    paths: list[engine_throughput.Maker] = [
        engine_throughput.Unbatched,
        partial(engine_throughput.Batched, batch=args.batch),
    ]
    rate = timers.FIRE_RATE
    with real_redis() as server:
        client = server.client
        print(f"server: {server.name}; {place(server, args.placement)}; {host_load()}")
        print(
            f"scale: throughput {args.visitors:,} visitors, naive {args.naive_visitors:,}, "
            f"{args.timers:,} pending timers, lateness {rate:,} timers/s for {args.window:g} s"
        )
        workload = Workload(args.visitors, args.seed)
        baselines, results = engine_throughput.run_paths(client, workload, paths, BASELINE_COUNT)
        race = naive.race(client, Workload(args.naive_visitors, args.seed), NAIVE_BATCH)
        baselines.append(round_trips_per_second(client, BASELINE_COUNT))
        parley = timers.parley_memory(client, args.timers, FIRED)
        late = timers.lateness(client, rate, args.window)
        baselines.append(round_trips_per_second(client, BASELINE_COUNT))
        pipelined, one_by_one = engine_throughput.floors(client)
        timer_floor = state_write_floor(client, state_bytes=round(parley["state_bytes"]))
    print(f"at the end: {host_load()}")
    baseline = statistics.median(baselines)
    print(
        f"baseline: redis-py single-command round trips (INCR): {baseline:,.0f}/s "
        f"(median of {', '.join(f'{b:,.0f}' for b in baselines)})"
    )
    print(
        f"floors, no engine work: pipelined loads and state writes {pipelined:,.0f} events/s, "
        f"one round trip after the other {one_by_one:,.0f} events/s"
    )
    unbatched, batched = (engine_throughput.events_per_second(rows) for _, rows in results)
    print(
        f"throughput: unbatched {unbatched:,.0f} events/s, batched {batched:,.0f} events/s "
        f"({sum(count for _, count, _ in results[0][1]):,} events a path)"
    )
    print(
        f"naive race ({race.events:,} events): parley Engine.handle_batch "
        f"{race.rates['parley']:,.0f} events/s, faster naive {race.naive:,.0f} events/s"
    )
    timers.print_parley(parley, late, timer_floor)
    targets = [
        *engine_throughput.throughput_targets(baseline, unbatched, batched, pipelined, one_by_one),
        naive.naive_target(race, pipelined),
        *timers.timer_targets(parley, late, rate, args.window, timer_floor),
    ]
    print(f"targets (run took {time.perf_counter() - began:.0f} s):")
    for target in targets:
        print(f"  {target.line()}")


if __name__ == "__main__":
    main()
