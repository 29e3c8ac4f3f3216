"""The pytest plugin behind `parley test` and Parley's own suite: a real Redis.

With `PARLEY_TEST_REDIS_URL` set the tests use that server (and empty it before every
test: never point it at data you want to keep); otherwise one real redis-server is
started for the session as a child process in a temporary folder, and stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from engine.redis_server import EmbeddedRedis

pytest_plugins = ["flowtest.steps"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of the session's Redis: PARLEY_TEST_REDIS_URL, else an embedded server."""
    url = os.environ.get("PARLEY_TEST_REDIS_URL")
    if url:
        yield url
        return
    # under /tmp: a deep pytest tmp_path can push the socket past the 107-byte unix limit
    data_dir = Path(tempfile.mkdtemp(prefix="parley-redis-", dir="/tmp"))
    try:
        with EmbeddedRedis(data_dir) as server:
            yield server.url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def redis_client(redis_server: str) -> Iterator[redis.Redis]:
    """A client on the session's Redis, emptied first so each test starts from nothing."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    try:
        yield client
    finally:
        client.close()
