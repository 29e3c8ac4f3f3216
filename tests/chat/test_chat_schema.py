"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Enum, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from chat.db import alembic_config, database_url, downgrade, make_engine, upgrade
from chat.models import Base, Contact, Conversation, ExecutedCommand, Member, Message, Workspace

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
TABLES = {
    "workspaces",
    "members",
    "api_tokens",
    "contacts",
    "channel_identities",
    "conversations",
    "messages",
    "executed_commands",
    "messenger_pages",
    "messenger_syncs",
    "notifications",
    "event_outbox",
}


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_creates_every_table_at_the_head_revision(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert table_names(engine) >= TABLES
    assert current_revision(engine) == head


def test_the_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_choices_are_checked_as_the_models_declare(engine: Engine) -> None:
    inspector = inspect(engine)
    built: dict[str, str] = {}
    declared: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        for check in inspector.get_check_constraints(table.name):
            built[str(check["name"])] = check["sqltext"]
        for column in table.columns:
            if isinstance(column.type, Enum):
                declared[f"ck_{table.name}_{column.type.name}"] = column.type.enums
    assert built.keys() == declared.keys()
    assert "ck_messages_sender" in built
    for name, values in declared.items():
        assert all(f"'{value}'" in built[name] for value in values), name


def test_upgrade_again_changes_nothing(db_url: str, engine: Engine) -> None:
    upgrade(db_url)
    assert table_names(engine) >= TABLES


def test_downgrade_to_base_drops_everything_and_upgrade_rebuilds(
    db_url: str, engine: Engine
) -> None:
    downgrade(db_url, "base")
    assert not table_names(engine) & TABLES
    upgrade(db_url)
    assert table_names(engine) >= TABLES


def test_0009_moves_the_widget_s_client_ids_and_back(
    db_url: str, session: Session, add_conversation: Callable[..., Conversation]
) -> None:
    conversation = add_conversation(channel="widget")
    session.add(
        Message(
            conversation_id=conversation.id,
            sender="visitor",
            channel="widget",
            client_id="a1",
            created_at=T0,
        )
    )
    session.commit()
    downgrade(db_url, "0008")
    kept = session.connection().exec_driver_sql("SELECT channel_message_id FROM messages")
    assert kept.scalars().all() == [f"{conversation.id}:a1"]
    session.commit()
    upgrade(db_url)
    found = session.execute(select(Message.channel_message_id, Message.client_id)).all()
    assert [tuple(row) for row in found] == [(None, "a1")]


def test_upgrade_finds_the_migrations_from_any_working_directory(
    empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        assert table_names(engine) >= TABLES
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Contact(workspace_id=404_404, name="Nobody's"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_choices_are_checked_by_the_database(session: Session, workspace: Workspace) -> None:
    role: Any = "boss"  # not a Role: only the CHECK constraint stands in the way
    session.add(Member(workspace_id=workspace.id, email="a@example.com", name="A", role=role))
    with pytest.raises(IntegrityError):
        session.flush()


def test_an_executed_command_is_recorded_once(session: Session) -> None:
    session.add(ExecutedCommand(key="say:v1:42", executed_at=T0))
    session.commit()
    session.add(ExecutedCommand(key="say:v1:42", executed_at=T0))
    with pytest.raises(IntegrityError):
        session.flush()


def test_times_come_back_in_utc_whatever_zone_they_were_given_in(
    session: Session, new_session: Callable[[], Session]
) -> None:
    paris = timezone(timedelta(hours=1))
    session.add(Workspace(name="Acme", created_at=datetime(2026, 3, 1, 10, 0, tzinfo=paris)))
    session.commit()
    with new_session() as other:
        created_at = other.scalars(select(Workspace.created_at)).one()
    assert created_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert created_at.tzinfo is UTC


def test_naive_times_are_refused(session: Session) -> None:
    session.add(Workspace(name="Acme", created_at=datetime(2026, 3, 1, 10, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_database_url_defaults_to_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "data"
    assert database_url(None, data_dir) == f"sqlite:///{data_dir / 'parley.db'}"
    assert data_dir.is_dir()


def test_database_url_prefers_the_setting(tmp_path: Path) -> None:
    url = "postgresql+psycopg://parley@db/parley"
    assert database_url(url, tmp_path / "unused") == url
    assert not (tmp_path / "unused").exists()
