"""Fixtures shared by the whole suite.

Databases: every test that takes `db_url` runs on a SQLite file and, when TEST_DATABASE_URL is
set (such as postgresql+psycopg://postgres@127.0.0.1:5432/test), on PostgreSQL as well, in
a schema of the test process's own. `db_url` is migrated and holds no rows: the migrations
run once per test session (a SQLite file copied for each test; PostgreSQL's tables emptied
between tests), as each migrating again cost a tenth of a second. `empty_db_url` is a
database without tables, for the tests of the migrations themselves.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from argon2 import PasswordHasher, profiles
from click.testing import CliRunner
from hypothesis import settings
from sqlalchemy import create_engine

from chat import signin
from chat.db import migrations_current, upgrade
from engine.redis_server import EmbeddedRedis
from tests.cluster.local import LocalCluster

# Developers' runs explore new random inputs; CI replays a fixed set, so main never turns red
# by chance (a failure found locally is kept as a test case instead).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# Argon2id at argon2-cffi's cheapest, its profile for tests: the default (64 MiB, three passes)
# costs a tenth of a second per hash and per check, and hundreds of tests sign in. Processes
# the tests start (`parley serve`) hash as in production.
CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords hashed in this process by CHEAP_HASHER."""
    monkeypatch.setattr(signin, "_HASHER", CHEAP_HASHER)


@pytest.fixture
def cli_runner() -> CliRunner:
    """Runs `parley` commands in-process and captures what they print."""
    return CliRunner()


pytest_plugins = ["flowtest.plugin", "tests.fakes.fixtures"]

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database without tables: a SQLite file in tmp_path, or PostgreSQL with a fresh schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'parley.db'}"
    assert POSTGRES_URL is not None
    return reset_schema(POSTGRES_URL)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision, made once for the session."""
    path = tmp_path_factory.mktemp("migrated") / "parley.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database without rows: a copy of the session's migrated SQLite file in
    tmp_path, or this process's PostgreSQL schema with its tables emptied."""
    if request.param == "sqlite":
        path = tmp_path / "parley.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    assert POSTGRES_URL is not None
    return emptied_schema(POSTGRES_URL)


def emptied_schema(url: str) -> str:
    """This process's schema (see `reset_schema`) migrated and emptied of rows; migrated
    afresh when a test left it at another revision or dropped it."""
    migrated = schema_url(url)
    engine = create_engine(migrated)
    try:
        with engine.begin() as connection:
            if migrations_current(connection):
                names = connection.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    " AND tablename <> 'alembic_version'"
                ).scalars()
                tables = ", ".join(f'"{name}"' for name in names)
                connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                return migrated
    finally:
        engine.dispose()
    upgrade(reset_schema(url))
    return migrated


def reset_schema(url: str) -> str:
    """An empty schema of this test process's own, and the URL that works in it.

    Each pytest process gets a schema named after its pid (made the search path through the
    connection's options), so two suites run on one PostgreSQL at once never drop each
    other's tables."""
    schema = _schema()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    finally:
        engine.dispose()
    return schema_url(url)


def schema_url(url: str) -> str:
    """`url` with this process's schema as the search path."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{_schema()}"


def _schema() -> str:
    return f"parley_test_{os.getpid()}"


S = TypeVar("S", bound="Server")


class Server(Protocol):
    """A server the tests start and stop: a redis-server, a local Redis Cluster."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@contextmanager
def running_in_tmp(prefix: str, make: Callable[[Path], S]) -> Iterator[S]:
    """The server `make` builds on a new folder under /tmp (a unix socket path has at most
    107 bytes), started; stopped and its folder removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    server = make(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A redis-server of this test's own, which the test stops and starts again."""
    with running_in_tmp("parley-outage-", EmbeddedRedis) as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A Redis Cluster of the session's own: three masters with a replica each, on loopback
    (tests/cluster/local.py). Started on first use, stopped at the end of the session."""
    with running_in_tmp("parley-cluster-", LocalCluster) as cluster:
        yield cluster


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
