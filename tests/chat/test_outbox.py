"""The outbox relay: what a request could not publish, the workers publish later, in order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chat.db import make_engine, session_factory
from chat.models import OutboxEvent
from chat.outbox import RELAY_AFTER, EventOutbox, retry, set_aside
from cli import main
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


def test_a_set_aside_event_given_back_is_read_again_and_published_once_it_reads(
    sessions: sessionmaker[Session],
) -> None:
    published: list[Event] = []
    outbox = EventOutbox(sessions, published.append, lambda: T0 + RELAY_AFTER)
    _left_behind(sessions, '{"type": "message.teleported"}', '{"type": "message.beamed"}')
    outbox.run_once()
    with sessions.begin() as session:
        first, second = (row.id for row in set_aside(session))
        # an operator mends the first row by hand; the second stays as it was
        session.get_one(OutboxEvent, first).event = _event(1)
        assert retry(session, [first, second, 999]) == [first, second]
    assert outbox.run_once() == 2
    assert [event.id for event in published] == ["e1"]
    with sessions() as session:
        assert [row.id for row in set_aside(session)] == [second]


def test_parley_outbox_lists_set_aside_events_and_gives_them_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    env = {"DATABASE_URL": url, "PARLEY_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(main, ["outbox", "list"], env=env).output == "no event is set aside\n"
    database = make_engine(url)
    with session_factory(database).begin() as session:
        row = OutboxEvent(event='{"type": "message.teleported"}', created_at=T0, error="no!")
        session.add(row)
        session.flush()
        number = row.id
    listed = runner.invoke(main, ["outbox", "list"], env=env)
    assert listed.output == (
        f'{number}  {T0:%Y-%m-%d %H:%M:%S} UTC  no!\n    {{"type": "message.teleported"}}\n'
    )
    given = runner.invoke(main, ["outbox", "retry", str(number), "42"], env=env)
    assert (given.exit_code, given.output) == (
        1,
        f"back in line for the relay: {number}\nError: not set aside: 42\n",
    )
    with session_factory(database)() as session:
        assert set_aside(session) == []
    database.dispose()
