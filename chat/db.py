"""Connecting to the chat database and bringing its schema up to date.

SQLite (the default, a file under the data folder) and PostgreSQL are both supported. On SQLite
the engine turns on foreign keys and takes over transaction control from the `sqlite3` driver,
which otherwise starts transactions late and breaks SAVEPOINT and transactional DDL.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

# The repository root holds `migrations/`; found from this file so any working directory works.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATE = zlib.crc32(b"parley-migrations")
# SQLite has one write lock for the whole database, and every transaction here takes it at
# BEGIN. One that finds it taken waits this long (SQLite retries while it waits); past it
# the request answers 503 with Retry-After, never 500 (docs/operations.md).
SQLITE_BUSY_TIMEOUT = 15.0


def database_url(setting: str | None, data_dir: Path) -> str:
    """The database URL: `setting` when given, else a SQLite file in `data_dir` (created)."""
    if setting:
        return setting
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir.resolve() / 'parley.db'}"


def make_engine(url: str) -> Engine:
    """An engine for `url`; on SQLite with foreign keys on, real BEGIN/COMMIT transactions,
    and a transaction that finds the write lock taken waiting SQLITE_BUSY_TIMEOUT for it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Makes sessions bound to `engine`; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(url: str, revision: str = "head") -> None:
    """Run the Alembic migrations on the database at `url` up to `revision`."""
    _migrate(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Run the Alembic migrations on the database at `url` down to `revision` ("base": empty)."""
    _migrate(url, lambda config: command.downgrade(config, revision))


def setup_lock(session: Session, name: str, *, wait: bool = True) -> bool:
    """Take the transaction-long lock `name` that one process at a time may hold; False
    when `wait` is off and another holds it. PostgreSQL: an advisory lock; SQLite: every
    writing transaction already holds the database's one write lock (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(name.encode())
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    taken = session.execute(text(f"SELECT {function}(:key)"), {"key": key}).scalar()
    return wait or bool(taken)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code; migrations run on `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _migrate(url: str, run: Callable[[Config], None]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            # several processes starting at once (gunicorn workers) migrate one at a time
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE})
            run(alembic_config(connection))
    finally:
        engine.dispose()


def migrations_current(connection: Connection) -> bool:
    """Whether the database's schema is the newest migration's."""
    return MigrationContext.configure(connection).get_current_revision() == _head()


@functools.cache
def _head() -> str | None:
    """The newest migration's revision: read from the migration files once per process
    (readiness probes ask on every call), as they do not change under a running one."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level, so that the "begin" hook below decides when BEGIN is sent.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a transaction that reads then writes (recording a
    # message) would otherwise fail with "database is locked" when another one writes meanwhile.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
