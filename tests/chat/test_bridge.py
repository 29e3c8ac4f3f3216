"""Chat and engine together: chat facts go out as events, commands come back once each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import redis
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.bridge import CommandExecutor, event_for
from chat.db import session_factory
from chat.models import Contact, Conversation, Message
from engine.core import Engine
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.ports import ManualClock
from engine.store import RedisStore
from engine.worker import EventStream, Worker

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def parley(client: redis.Redis) -> Worker:
    flows = FlowRegistry(client)
    assert not flows.load([FLOWS / "handoff.yaml"]).failed()
    return Worker(Engine(RedisStore(client), flows, ManualClock()), "engine")


def test_a_handoff_is_carried_out_on_the_chat_data_once(
    engine: SqlEngine,
    session: Session,
    redis_client: redis.Redis,
    add_conversation: Callable[..., Conversation],
) -> None:
    conversation = add_conversation(channel="widget")
    said = event_for(conversation, "message.received", conversation.received_at, "m1", text="agent")
    session.commit()  # SQLite: release the write lock before the executor's own session
    worker = parley(redis_client)
    executor = CommandExecutor(session_factory(engine), redis_client, Keys(), "chat")
    EventStream(redis_client).publish(said)
    worker.poll()
    assert executor.run_once() == 4  # say, hosting off, assign team, tag
    with session_factory(engine)() as check:
        stored = check.get(Conversation, conversation.id)
        assert stored is not None
        assert (stored.hosting, stored.tags) == (False, ["team:support"])
        contact = check.get(Contact, stored.contact_id)
        assert contact is not None
        assert contact.tags == ["handed-off"]
        bots = check.scalars(select(Message).where(Message.sender == "bot")).all()
        assert [m.text for m in bots] == ["Sure, let me get a person for you."]
    worker.poll()  # the news (bot message sent, hosting off) reaches the engine
    state, _ = worker.engine.store.load(f"contact-{conversation.contact_id}")
    assert state.facts["conversation"]["state"] == "unassigned"


def test_a_command_delivered_twice_acts_once(
    engine: SqlEngine,
    session: Session,
    redis_client: redis.Redis,
    add_conversation: Callable[..., Conversation],
) -> None:
    conversation = add_conversation(channel="widget")
    session.commit()
    executor = CommandExecutor(session_factory(engine), redis_client, Keys(), "chat")
    command = {
        "key": "contact-1:e1:0",
        "kind": "say",
        "visitor_id": "contact-1",
        "conversation_id": str(conversation.id),
        "flow": "handoff",
        "args": {"text": "Hello", "buttons": []},
    }
    executor.execute(command)
    executor.execute(command)
    with session_factory(engine)() as check:
        assert len(check.scalars(select(Message)).all()) == 1
