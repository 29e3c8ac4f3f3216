"""Live notices: what a committed transaction wrote is announced to its workspace, only that."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chat.changes import ChangeFeed
from chat.db import session_factory
from chat.models import Contact, Workspace
from engine.redis_server import EmbeddedRedis


def watched(engine: Engine, feed: ChangeFeed) -> tuple[sessionmaker[Session], int, int]:
    """Watched sessions with a workspace holding one contact: (sessions, workspace, contact)."""
    sessions = session_factory(engine)
    feed.watch(sessions)
    with sessions.begin() as session:
        workspace = Workspace(name="Acme")
        session.add(workspace)
        session.flush()
        contact = Contact(workspace_id=workspace.id, name="Ana")
        session.add(contact)
        session.flush()
        return sessions, workspace.id, contact.id


def heard(
    feed: ChangeFeed, workspace_id: int, action: Callable[[], None]
) -> list[dict[str, Any] | None]:
    """The notices the workspace's channel carries while `action()` runs (then 2 s of quiet)."""
    listening = feed.listen(workspace_id, seconds=5)
    next(listening)  # nothing yet
    action()
    quiet = itertools.takewhile(lambda notice: notice is not None, listening)
    return list(quiet)


def test_a_committed_edit_of_a_contact_is_announced_to_its_workspace(
    engine: Engine, redis_client: redis.Redis
) -> None:
    feed = ChangeFeed(redis_client)
    sessions, workspace_id, contact_id = watched(engine, feed)

    def edit() -> None:
        with sessions.begin() as session:
            session.get_one(Contact, contact_id).remark_name = "VIP Ana"

    assert heard(feed, workspace_id, edit) == [{"kind": "contact", "id": contact_id}]


def test_a_rolled_back_edit_is_not_announced(engine: Engine, redis_client: redis.Redis) -> None:
    feed = ChangeFeed(redis_client)
    sessions, workspace_id, contact_id = watched(engine, feed)

    def edit_then_undo() -> None:
        with sessions() as session:
            session.get_one(Contact, contact_id).remark_name = "VIP Ana"
            session.flush()
            session.rollback()
            assert session.scalars(select(Contact.remark_name)).one() is None

    assert heard(feed, workspace_id, edit_then_undo) == []


def test_a_stream_ends_quietly_when_redis_goes_away(own_redis: EmbeddedRedis) -> None:
    feed = ChangeFeed(redis.Redis.from_url(own_redis.url))
    listening = feed.listen(1, seconds=30)
    assert next(listening) is None
    own_redis.stop()
    assert list(listening) == []  # ended, nothing raised
