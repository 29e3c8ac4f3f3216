"""Fixtures shared by the whole suite.

Databases: every test that takes `db_url` runs on a SQLite file and, when TEST_DATABASE_URL is
set (such as postgresql+psycopg://postgres@127.0.0.1:5432/test), on PostgreSQL as well, in
a schema of the test process's own, dropped and recreated before each test.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from click.testing import CliRunner
from hypothesis import settings
from sqlalchemy import create_engine

from engine.redis_server import EmbeddedRedis
from tests.cluster.local import LocalCluster

# Developers' runs explore new random inputs; CI replays a fixed set, so main never turns red
# by chance (a failure found locally is kept as a test case instead).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def cli_runner() -> CliRunner:
    """Runs `parley` commands in-process and captures what they print."""
    return CliRunner()


pytest_plugins = ["flowtest.plugin", "tests.fakes.fixtures"]

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file in tmp_path, or PostgreSQL with a fresh schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'parley.db'}"
    assert POSTGRES_URL is not None
    return reset_schema(POSTGRES_URL)


def reset_schema(url: str) -> str:
    """An empty schema of this test process's own, and the URL that works in it.

    Each pytest process gets a schema named after its pid (made the search path through the
    connection's options), so two suites run on one PostgreSQL at once never drop each
    other's tables."""
    schema = f"parley_test_{os.getpid()}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    finally:
        engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A redis-server of this test's own, which the test stops and starts again (its socket
    under /tmp: a unix socket path has at most 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="parley-outage-", dir="/tmp"))
    server = EmbeddedRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A Redis Cluster of the session's own: three masters with a replica each, on loopback
    (tests/cluster/local.py). Started on first use, stopped at the end of the session."""
    folder = Path(tempfile.mkdtemp(prefix="parley-cluster-", dir="/tmp"))
    cluster = LocalCluster(folder)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class SmtpServer:
    """A real SMTP server on loopback; `received` holds what it accepted. Replies put in
    `refusals` (such as "451 4.3.0 try again later") answer the next messages instead."""

    port: int
    received: list[Envelope] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server (aiosmtpd) on a free loopback port, for the length of one test."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # aiosmtpd wants a port number, not port 0
    server = SmtpServer(port)

    class Handler:
        async def handle_DATA(self, _server: object, _session: object, envelope: Envelope) -> str:
            if server.refusals:
                return server.refusals.pop(0)
            server.received.append(envelope)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
