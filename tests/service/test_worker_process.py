"""`parley worker` as an operator runs it beside `parley serve`."""

from __future__ import annotations

import subprocess
import threading

from engine.keys import Keys
from engine.redis_server import EmbeddedRedis
from engine.worker import GROUP
from tests.service.conftest import Service, parley

PATIENCE = 30.0  # seconds for a worker process to do what it must


def test_a_worker_started_while_redis_is_away_waits_for_it(
    service: Service, own_redis: EmbeddedRedis
) -> None:
    own_redis.stop()
    worker = subprocess.Popen(
        parley("worker", "--name", "w1"),
        cwd=service.folder,
        env={**service.env, "REDIS_URL": own_redis.url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        said = iter(worker.stderr.readline, "")
        assert any("worker w1: Error" in line and "retrying in 2 s" in line for line in said)
        own_redis.start()
        joined = threading.Event()
        for _ in range(int(PATIENCE / 0.2)):  # a real process: it joins in real time
            if own_redis.client().zscore(Keys().workers(GROUP), "w1") is not None:
                joined.set()
                break
            joined.wait(0.2)
        assert joined.is_set()  # it leases shards: it works
        worker.terminate()
        assert worker.wait(timeout=PATIENCE) == 0
    finally:
        worker.kill()
        worker.communicate()
