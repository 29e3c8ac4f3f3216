"""Redis away: writes are kept and reach the engine later, Redis-bound reads answer 503,
readiness says what is wrong, and nothing needs a restart when Redis comes back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

import chat.db
from chat.members import create_workspace
from chat.models import Message
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis
from server import create_app
from settings import Settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def service(
    own_redis: EmbeddedRedis, tmp_path: Path, flows_dir: Path, db_url: str, clock: ManualClock
) -> Iterator[Flask]:
    settings = Settings(
        redis_url=own_redis.url, database_url=db_url, data_dir=tmp_path, flows_dir=flows_dir
    )
    app = create_app(settings, clock)
    with app.extensions["parley"].sessions.begin() as session:
        create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
    yield app
    app.extensions["parley"].close()


def _bot_texts(app: Flask, conversation: int) -> list[str | None]:
    with app.extensions["parley"].sessions() as session:
        rows = session.query(Message).filter_by(conversation_id=conversation, sender="bot")
        return [m.text for m in rows]


def _restart(server: EmbeddedRedis) -> None:
    server.stop()
    server.start()


def test_readiness_names_redis_while_it_is_away(service: Flask, own_redis: EmbeddedRedis) -> None:
    client = service.test_client()
    assert client.get("/readyz").status_code == 200
    own_redis.stop()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    checks = answer.get_json()["checks"]
    assert checks["redis"]["ok"] is False
    assert checks["database"] == {"ok": True, "detail": "answers; schema current"}
    assert client.get("/healthz").status_code == 200
    own_redis.start()
    assert client.get("/readyz").status_code == 200


def test_a_read_that_needs_redis_answers_503_with_retry_after(
    service: Flask, own_redis: EmbeddedRedis
) -> None:
    client = service.test_client()
    with service.extensions["parley"].sessions.begin() as session:
        _, _, token = create_workspace(session, "Other", "boss@example.com", "Boss")
    own_redis.stop()
    answer = client.get("/flows/win-back/funnel", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json()["error"]["code"] == "unavailable"
    # the contacts live in the database alone: still served
    contacts = client.get("/contacts", headers={"Authorization": f"Bearer {token}"})
    assert contacts.status_code == 200


def test_a_visitor_message_written_while_redis_is_away_is_answered_once_it_is_back(
    service: Flask, own_redis: EmbeddedRedis, clock: ManualClock
) -> None:
    client = service.test_client()
    started = client.post("/widget/conversations", json={"name": "Ben"}).get_json()
    conversation, visitor = (
        started["conversation_id"],
        {"X-Visitor-Token": started["visitor_token"]},
    )
    services = service.extensions["parley"]
    services.settle()
    welcomed = len(_bot_texts(service, conversation))
    assert welcomed > 0

    own_redis.stop()
    sent = client.post(
        f"/widget/conversations/{conversation}/messages", headers=visitor, json={"text": "hi"}
    )
    assert sent.status_code == 201  # stored, and its event kept in the outbox
    own_redis.start()
    services.settle()
    assert len(_bot_texts(service, conversation)) == welcomed  # the request's own turn first

    clock.advance(5)  # past that, the workers publish what the request could not
    services.settle()
    assert len(_bot_texts(service, conversation)) > welcomed
    services.settle()
    again = len(_bot_texts(service, conversation))
    clock.advance(60)
    services.settle()
    assert len(_bot_texts(service, conversation)) == again  # published once, answered once


def test_sqlite_locked_past_its_wait_answers_503_not_500(
    own_redis: EmbeddedRedis,
    tmp_path: Path,
    flows_dir: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chat.db, "SQLITE_BUSY_TIMEOUT", 0.05)
    database = tmp_path / "parley.db"
    settings = Settings(
        redis_url=own_redis.url,
        database_url=f"sqlite:///{database}",
        data_dir=tmp_path,
        flows_dir=flows_dir,
    )
    app = create_app(settings, clock)
    with app.extensions["parley"].sessions.begin() as session:
        create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
    client = app.test_client()
    started = client.post("/widget/conversations", json={"name": "Ana"}).get_json()
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    try:
        answer = client.post(
            f"/widget/conversations/{started['conversation_id']}/messages",
            json={"text": "hello"},
            headers={"X-Visitor-Token": started["visitor_token"]},
        )
    finally:
        writer.rollback()
        writer.close()
        app.extensions["parley"].close()
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "unavailable"
    assert answer.headers["Retry-After"] == "5"
