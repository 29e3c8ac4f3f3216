"""The silence clock counts from bot messages the visitor has had, not ones still on their
way: a visitor_timeout does not fire while a bot answer waits to be sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.client import Client
from engine.core import Engine
from engine.events import Event
from engine.flows import FlowRegistry
from engine.ports import ManualClock
from engine.store import RedisStore
from tests.engine.flows import ECHO, NUDGE

FLOWS = {"echo.yaml": ECHO, "nudge.yaml": NUDGE}
T0 = 1_767_225_600.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def engine(redis_client: Client, tmp_path: Path, clock: ManualClock) -> Engine:
    for name, text in FLOWS.items():
        (tmp_path / name).write_text(text)
    flows = FlowRegistry(redis_client)
    assert not flows.load([tmp_path]).failed()
    return Engine(RedisStore(redis_client), flows, clock)


def event(number: int, clock: ManualClock, **fields: Any) -> Event:
    return Event(id=f"e{number}", visitor_id="v1", conversation_id="c1", at=clock.now(), **fields)


def received(number: int, clock: ManualClock) -> Event:
    return event(number, clock, type="message.received", text=f"message {number}")


def sent(number: int, clock: ManualClock, command: dict[str, Any]) -> Event:
    """The chat layer's news that it carried out the bot message `command`."""
    return event(
        number,
        clock,
        type="message.sent",
        sender="bot",
        flow=command["flow"],
        text=command["args"]["text"],
        command=command["key"],
    )


def says(engine: Engine) -> list[dict[str, Any]]:
    return [c for c in engine.store.read_commands() if c["kind"] == "say"]


def texts(engine: Engine) -> list[str]:
    return [command["args"]["text"] for command in says(engine)]


def test_no_nudge_while_the_answer_to_the_last_message_is_on_its_way(
    engine: Engine, clock: ManualClock
) -> None:
    engine.handle(received(1, clock))
    engine.handle(received(2, clock))
    first, second = says(engine)
    engine.handle(sent(3, clock, first))  # the first answer is out: the clock starts
    clock.advance(60)
    engine.fire_due_timers()
    assert [c["args"]["text"] for c in says(engine)] == [
        "You said message 1",
        "You said message 2",
    ]  # no nudge yet
    clock.advance(5)
    engine.handle(sent(4, clock, second))  # the second answer is out at last
    clock.advance(60)
    engine.fire_due_timers()
    assert [c["args"]["text"] for c in says(engine)] == [
        "You said message 1",
        "You said message 2",
        "Still there?",
    ]


def test_an_answer_never_reported_sent_holds_the_clock_back_only_so_long(
    engine: Engine, clock: ManualClock
) -> None:
    engine.handle(received(1, clock))
    engine.handle(received(2, clock))
    first, _lost = says(engine)  # the second command is set aside by the chat layer
    engine.handle(sent(3, clock, first))
    for _ in range(16):  # each minute the clock is looked at again; the lost one expires
        clock.advance(60)
        engine.fire_due_timers()
    assert texts(engine)[-1] == "Still there?"
