"""Chat and engine together: chat facts go out as events, commands come back once each."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.flow_deliveries import FlowDeliveries
from chat.bridge import CommandExecutor
from chat.db import session_factory
from chat.models import Contact, Conversation, Message
from chat.news import event_for
from engine.core import Engine
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.ports import ManualClock
from engine.store import RedisStore
from engine.worker import EventStream, Worker
from tests.chat.conftest import ExecutorFor

FLOWS = Path(__file__).resolve().parents[2] / "flows"


@pytest.fixture
def conversation(session: Session, add_conversation: Callable[..., Conversation]) -> Conversation:
    """A widget conversation, committed so the executor's own sessions see it."""
    found = add_conversation(channel="widget")
    session.commit()  # SQLite: also releases the write lock the executor needs
    return found


@pytest.fixture
def executor(executor_for: ExecutorFor) -> CommandExecutor:
    """The chat layer's command executor on the test database and Redis."""
    return executor_for()


def command(conversation: Conversation, kind: str, key: str, **args: object) -> dict[str, object]:
    """An engine command for `conversation`, as the engine writes it to the outbox."""
    return {
        "key": key,
        "kind": kind,
        "visitor_id": "contact-1",
        "flow": "handoff",
        "conversation_id": str(conversation.id),
        "args": args,
    }


def parley(client: redis.Redis) -> Worker:
    flows = FlowRegistry(client)
    assert not flows.load([FLOWS / "handoff.yaml"]).failed()
    return Worker(Engine(RedisStore(client), flows, ManualClock()), "engine")


def test_a_handoff_is_carried_out_on_the_chat_data_once(
    executor_for: ExecutorFor,
    engine: SqlEngine,
    session: Session,
    redis_client: redis.Redis,
    add_conversation: Callable[..., Conversation],
) -> None:
    conversation = add_conversation(channel="widget")
    said = event_for(conversation, "message.received", conversation.received_at, "m1", text="agent")
    session.commit()  # SQLite: release the write lock before the executor's own session
    worker = parley(redis_client)
    executor = executor_for()
    EventStream(redis_client).publish(said)
    worker.poll()
    assert executor.run_once() == 3  # say, hosting off, tag
    with session_factory(engine)() as check:
        stored = check.get(Conversation, conversation.id)
        assert stored is not None
        assert (stored.hosting, stored.assignee_id) == (False, None)
        contact = check.get(Contact, stored.contact_id)
        assert contact is not None
        assert contact.tags == ["handed-off", "support"]
        bots = check.scalars(select(Message).where(Message.sender == "bot")).all()
        assert [m.text for m in bots] == ["Sure, let me get a person for you."]
    worker.poll()  # the news (bot message sent, hosting off) reaches the engine
    state, _ = worker.engine.store.load(f"contact-{conversation.contact_id}")
    assert state.facts["conversation"]["state"] == "unassigned"


def test_a_command_delivered_twice_acts_once(
    engine: SqlEngine, conversation: Conversation, executor: CommandExecutor
) -> None:
    say = command(conversation, "say", "contact-1:e1:0", text="Hello", buttons=[])
    executor.execute(say)
    executor.execute(say)
    with session_factory(engine)() as check:
        assert len(check.scalars(select(Message)).all()) == 1


def test_a_webhook_is_posted_once_to_its_address(
    executor_for: ExecutorFor,
    engine: SqlEngine,
    session: Session,
    redis_client: redis.Redis,
    add_conversation: Callable[..., Conversation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(proxy, raising=False)  # the hook listens on loopback
    received: list[dict[str, object]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conversation = add_conversation(channel="widget")
        session.commit()
        executor = executor_for()
        command = {
            "key": "contact-1:e2:0",
            "kind": "webhook",
            "visitor_id": "contact-1",
            "conversation_id": str(conversation.id),
            "flow": "lead",
            "args": {
                "url": f"http://127.0.0.1:{server.server_port}/lead",
                "timeout": 5,
                "body": {"who": "Ben"},
            },
        }
        executor.execute(command)
        executor.execute(command)
    finally:
        server.shutdown()
        server.server_close()
    assert received == [
        {
            "flow": "lead",
            "visitor_id": "contact-1",
            "conversation_id": str(conversation.id),
            "data": {"who": "Ben"},
        }
    ]


def test_a_redelivered_old_hosting_command_does_not_undo_a_later_change(
    engine: SqlEngine, conversation: Conversation, executor: CommandExecutor
) -> None:
    hosting_off = command(conversation, "hosting", "contact-1:e3:0", on=False)
    executor.execute(hosting_off)
    with session_factory(engine).begin() as later:  # an agent turns hosting back on
        found = later.get(Conversation, conversation.id)
        assert found is not None
        found.hosting = True
    executor.execute(hosting_off)
    with session_factory(engine)() as check:
        found = check.get(Conversation, conversation.id)
        assert found is not None
        assert found.hosting is True


def test_a_flow_assigning_someone_who_is_no_member_leaves_the_conversation_as_it_was(
    engine: SqlEngine, conversation: Conversation, executor: CommandExecutor
) -> None:
    for number, agent in enumerate(("999", "nobody@example.com")):
        executor.execute(command(conversation, "assign", f"contact-1:e4:{number}", agent=agent))
    with session_factory(engine)() as check:
        found = check.get(Conversation, conversation.id)
        assert found is not None
        assert (found.assignee_id, found.tags) == (None, [])


def test_a_webhook_target_that_hangs_up_is_logged_not_fatal() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def hang_up() -> None:
        connection, _ = server.accept()
        connection.recv(65536)
        connection.close()  # no answer at all

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    command = {
        "key": "k",
        "kind": "webhook",
        "visitor_id": "v",
        "conversation_id": "1",
        "flow": "f",
        "args": {"url": f"http://127.0.0.1:{server.getsockname()[1]}/", "timeout": 5, "body": {}},
    }
    try:
        assert FlowDeliveries(None, Path("emails"), datetime.now).webhook(command) is False
    finally:
        thread.join(timeout=5)
        server.close()


def test_a_command_that_cannot_be_carried_out_is_set_aside(
    executor_for: ExecutorFor,
    engine: SqlEngine,
    session: Session,
    redis_client: redis.Redis,
    add_conversation: Callable[..., Conversation],
) -> None:
    add_conversation(channel="widget")
    session.commit()
    keys = Keys()
    executor = executor_for(keys=keys)
    redis_client.xadd(keys.commands(0), {"command": json.dumps({"kind": "say"})})
    assert executor.run_once() == 1
    dead = redis_client.xrange(keys.dead_letters(0)) or []
    assert len(dead) == 1
    assert executor.run_once() == 0  # acknowledged: it does not come back


def test_a_bot_message_and_its_news_carry_the_service_clock_s_time(
    executor_for: ExecutorFor,
    engine: SqlEngine,
    redis_client: redis.Redis,
    conversation: Conversation,
) -> None:
    clock = ManualClock()  # 2026-01-01, not the wall clock
    executor = executor_for(clock=clock)
    executor.execute(command(conversation, "say", "k-clock", text="Hello"))
    with session_factory(engine)() as check:
        said = check.scalars(select(Message).where(Message.sender == "bot")).one()
        assert said.created_at == datetime.fromtimestamp(clock.now(), UTC)
