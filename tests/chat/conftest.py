"""Fixtures of the chat tests: a migrated database per test (see `db_url` in tests/conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from channels.flow_deliveries import FlowDeliveries
from chat.bridge import CommandExecutor
from chat.db import make_engine, session_factory
from chat.models import Contact, Conversation, Member, Workspace
from chat.ports import Deliveries
from engine.keys import Keys
from engine.ports import ManualClock

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the migrated database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def new_session(engine: Engine) -> Callable[[], Session]:
    """Opens another session, to read back what was committed."""
    return session_factory(engine)


@pytest.fixture
def session(new_session: Callable[[], Session]) -> Iterator[Session]:
    """A session on the migrated database."""
    with new_session() as session:
        yield session


@pytest.fixture
def workspace(session: Session) -> Workspace:
    """A workspace to put contacts and conversations in."""
    workspace = Workspace(name="Acme")
    session.add(workspace)
    session.flush()
    return workspace


@pytest.fixture
def add_contact(session: Session, workspace: Workspace) -> Callable[..., Contact]:
    """Adds a contact to the workspace (or another one), with the fields given."""

    def add(**fields: Any) -> Contact:
        fields.setdefault("workspace_id", workspace.id)
        contact = Contact(**fields)
        session.add(contact)
        session.flush()
        return contact

    return add


@pytest.fixture
def add_conversation(
    session: Session, workspace: Workspace, add_contact: Callable[..., Contact]
) -> Callable[..., Conversation]:
    """Adds a conversation (with a new contact unless given one), received at T0 unless told."""

    def add(**fields: Any) -> Conversation:
        fields.setdefault("workspace_id", workspace.id)
        fields.setdefault("channel", "messenger")
        fields.setdefault("is_new_visitor", True)
        fields.setdefault("received_at", T0)
        fields.setdefault("last_activity_at", fields["received_at"])
        if "contact_id" not in fields:
            fields["contact_id"] = add_contact(
                name="Visitor", workspace_id=fields["workspace_id"]
            ).id
        conversation = Conversation(**fields)
        session.add(conversation)
        session.flush()
        return conversation

    return add


@pytest.fixture
def add_member(session: Session, workspace: Workspace) -> Callable[..., Member]:
    """Adds a member to the workspace (or another one): an agent without permissions by default."""
    numbers = itertools.count(1)

    def add(**fields: Any) -> Member:
        number = next(numbers)
        fields.setdefault("workspace_id", workspace.id)
        fields.setdefault("email", f"member{number}@example.com")
        fields.setdefault("name", f"Member {number}")
        fields.setdefault("role", "agent")
        fields.setdefault("permissions", [])
        member = Member(**fields)
        session.add(member)
        session.flush()
        return member

    return add


@pytest.fixture
def owner(add_member: Callable[..., Member]) -> Member:
    """The workspace's owner, who sees and may do everything in it."""
    return add_member(role="owner", email="owner@example.com", name="Olive Owner")


ExecutorFor = Callable[..., CommandExecutor]


@pytest.fixture
def executor_for(engine: Engine, redis_client: redis.Redis) -> ExecutorFor:
    """Makes the chat layer's command executor on the test database and Redis, on a clock
    (by default a new virtual one), with flows' emails and webhooks going to `deliveries`
    (by default the real ones, without SMTP settings)."""

    def make(
        *,
        deliveries: Deliveries | None = None,
        keys: Keys | None = None,
        clock: ManualClock | None = None,
    ) -> CommandExecutor:
        time = clock or ManualClock()

        def now() -> datetime:
            return datetime.fromtimestamp(time.now(), UTC)

        return CommandExecutor(
            session_factory(engine),
            redis_client,
            keys or Keys(),
            "chat",
            deliveries=deliveries or FlowDeliveries(None, Path("emails"), now),
            now=now,
        )

    return make
