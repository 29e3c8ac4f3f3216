"""The outbox relay: what a request could not publish, the workers publish later, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chat.db import session_factory
from chat.models import OutboxEvent
from chat.outbox import RELAY_AFTER, EventOutbox
from engine.events import Event
from tests.chat.conftest import T0


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the migrated database."""
    return session_factory(engine)


def _left_behind(sessions: sessionmaker[Session], *texts: str) -> None:
    with sessions.begin() as session:
        session.add_all(OutboxEvent(event=text, created_at=T0) for text in texts)


def _event(number: int) -> str:
    return Event(f"e{number}", "message.received", "v1", "c1", T0.timestamp()).to_json().decode()


def test_an_event_that_no_longer_reads_is_set_aside_and_the_next_ones_go_out(
    sessions: sessionmaker[Session],
) -> None:
    published: list[Event] = []  # the engine's side of the port
    outbox = EventOutbox(sessions, published.append, lambda: T0 + RELAY_AFTER)
    _left_behind(sessions, _event(1), '{"type": "message.teleported"}', _event(3))
    assert outbox.run_once() == 3
    assert [event.id for event in published] == ["e1", "e3"]
    with sessions() as session:
        (kept,) = session.scalars(select(OutboxEvent)).all()
    assert "message.teleported" in str(kept.error)
    assert outbox.run_once() == 0  # set aside: not read again


def test_events_wait_for_their_request_before_the_relay_takes_them(
    sessions: sessionmaker[Session],
) -> None:
    published: list[Event] = []
    outbox = EventOutbox(sessions, published.append, lambda: T0 + RELAY_AFTER / 2)
    _left_behind(sessions, _event(1))
    assert outbox.run_once() == 0
    outbox.now = lambda: T0 + RELAY_AFTER + timedelta(seconds=1)
    assert outbox.run_once() == 1
    assert [event.id for event in published] == ["e1"]
