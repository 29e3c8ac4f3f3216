"""The engine's speed targets, measured in one run of under a minute: a line each, MET or MISSED.

Runs the measuring functions of `engine_throughput.py`, `naive.py` and `timers.py` at a
small scale, on one Redis, and prints each target once at the end; a missed one also
prints its floor, the best figure this machine allows whatever the engine does, measured
in the same run without the engine (see each script's docstring). Ratios are against the
baseline of this run: redis-py single-command round trips per second. The baseline and
the throughput floors are measured together before each path, after the naive race and
after the timers, and their medians used (`_common.Yardstick`).

Each script also runs alone, with its own options and more detail, and prints its own
targets the same way; `--visitors 100000` on `engine_throughput.py` and `--timers 1000000`
on `timers.py` are the target scales. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import engine_throughput
import naive
import timers
from _common import (
    PLACEMENTS,
    Workload,
    Yardstick,
    host_load,
    place,
    real_redis,
    state_write_floor,
)

BASELINE_COUNT = 1_000  # INCRs a baseline loop: three loops take about a second here
NAIVE_BATCH = 500  # events per Engine.handle_batch call in the naive race
FIRED = 2_000  # of the pending timers, how many fire to tell the fire rate


def main() -> None:
    """Measure everything, then print the figures and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=1_000, help="throughput, default 1000")
    parser.add_argument("--batch", type=int, default=100, help="Worker entries per shard read")
    parser.add_argument("--naive-visitors", type=int, default=25, help="default 25")
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
        yardstick = Yardstick(BASELINE_COUNT)
        workload = Workload(args.visitors, args.seed)
        results = engine_throughput.run_paths(client, workload, paths, yardstick)
        race = naive.race(client, Workload(args.naive_visitors, args.seed), NAIVE_BATCH)
        yardstick.measure(client)
        parley = timers.parley_memory(client, args.timers, FIRED)
        timer_floor = state_write_floor(client, 2_000, round(parley["state_bytes"]))
        late = timers.lateness(client, rate, args.window)
        yardstick.measure(client)
    print(f"at the end: {host_load()}")
    for line in yardstick.lines():
        print(line)
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
        *engine_throughput.throughput_targets(yardstick, unbatched, batched),
        naive.naive_target(race, yardstick.floor()),
        *timers.timer_targets(parley, late, rate, args.window, timer_floor),
    ]
    print(f"targets (run took {time.perf_counter() - began:.0f} s):")
    for target in targets:
        print(f"  {target.line()}")


if __name__ == "__main__":
    main()
