"""Alembic environment for the chat database.

`chat.db.upgrade()` hands in an open connection through `config.attributes`; the `alembic`
command line instead reads `sqlalchemy.url` from alembic.ini, else DATABASE_URL, else the
SQLite file under PARLEY_DATA_DIR (default `var`).
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import Connection

from chat.db import database_url, make_engine
from chat.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    # Only the command line configures logging; a host application keeps its own.
    fileConfig(config.config_file_name)


def run_on(connection: Connection) -> None:
    """Run the pending migrations on `connection`."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them; batch mode lets migrations say ALTER anyway.
        render_as_batch=connection.dialect.name == "sqlite",
        # chat.db's engine sends a real BEGIN on SQLite, so a failed migration rolls back there.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def command_line_url() -> str:
    """The database URL for the `alembic` command line."""
    configured = config.get_main_option("sqlalchemy.url")
    setting = configured or os.environ.get("DATABASE_URL")
    return database_url(setting, Path(os.environ.get("PARLEY_DATA_DIR", "var")))


def write_sql() -> None:
    """Print the migrations' SQL instead of running them (`alembic upgrade head --sql`)."""
    context.configure(url=command_line_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if context.is_offline_mode():
    write_sql()
elif given is not None:
    run_on(given)
else:
    engine = make_engine(command_line_url())
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()
