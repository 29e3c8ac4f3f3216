"""Nothing lost, nothing sent twice: widget visitors against real processes under crashes.

Runs an installation as an operator would (tests/service/crowd.py): a redis-server with
its AOF fsynced every second, `parley serve --engine-workers 0`, two `parley worker`s; a
crowd of widget visitors each writes `--messages` messages to a flow that answers every
message and one that nudges after 10 s of silence. Meanwhile a worker is killed with
SIGKILL about every `--kill-every` seconds (and another started in its place), and Redis
is restarted `--redis-restarts` times (SIGKILL and SIGTERM in turn, 3 s away each time).
The crowd keeps arriving for `--minutes`; then the workers catch up, and every
conversation is read back and judged. Printed: visitors, messages accepted, lost (answers
or nudges missing), duplicated (a message stored twice, an answer or a nudge sent twice),
server errors (5xx other than 503), and the 503s the visitors retried.

The default run takes about two minutes; issue 12's long version is
`--minutes 5 --kill-every 2 --redis-restarts 3`. `DATABASE_URL` runs it on PostgreSQL.
Exit status 1 when anything was lost or duplicated or a call failed with a server error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

# The harness is shared with the suite's short runs, under tests/.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.service.crowd import SILENCE, Crowd, Installation, chaos, settle, tally  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="how long visitors arrive")
    parser.add_argument("--visitors-per-second", type=float, default=5.0)
    parser.add_argument("--messages", type=int, default=3, help="messages per visitor")
    parser.add_argument("--kill-every", type=float, default=2.0, help="seconds; 0: no kills")
    parser.add_argument("--redis-restarts", type=int, default=1)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="parley-crash-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.pop("REDIS_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    installation = Installation(folder, env)
    seconds = args.minutes * 60
    visitors = max(1, round(seconds * args.visitors_per_second))
    crowd = Crowd(installation.service, visitors, args.messages, pause=1.0)
    signals: list[int] = [signal.SIGKILL, signal.SIGTERM]
    restarts = [
        (seconds * (n + 1) / (args.redis_restarts + 1), signals[n % 2])
        for n in range(args.redis_restarts)
    ]
    begun = time.monotonic()
    try:
        installation.start()
        with chaos(installation, kill_every=args.kill_every or None, redis_restarts=restarts):
            crowd.run(threads=max(1, round(args.visitors_per_second * (args.messages + 1))))
            loaded = time.monotonic() - begun
            time.sleep(max(0.0, seconds - loaded))  # the crashes go on for all of --minutes
        # pending entries of killed workers are claimed after 30 s; then the last silences
        result = settle(crowd, lambda: tally(installation, crowd), within=60 + 3 * SILENCE)
    finally:
        installation.stop()
    print(f"load: {loaded:.0f} s, {visitors} visitors x {args.messages} messages")
    print(f"crashes for {max(seconds, loaded):.0f} s")
    print(result.report())
    if result.lost or result.duplicated or result.server_errors:
        print(f"logs in {folder}")
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
