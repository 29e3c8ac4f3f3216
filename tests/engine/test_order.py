"""A visitor's numbered events are applied in the order the chat layer stored them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.client import Client
from engine.core import Engine
from engine.events import Event
from engine.flows import FlowRegistry
from engine.ports import ManualClock
from engine.runtime import GAP_WAIT
from engine.store import RedisStore
from tests.engine.flows import ECHO

T0 = 1_767_225_600.0


def make_engine(client: Client, tmp_path: Path) -> tuple[Engine, ManualClock]:
    (tmp_path / "echo.yaml").write_text(ECHO)
    flows = FlowRegistry(client)
    assert not flows.load([tmp_path]).failed()
    clock = ManualClock(T0)
    return Engine(RedisStore(client), flows, clock), clock


def message(seq: int) -> Event:
    return Event(
        id=f"m{seq}",
        type="message.received",
        visitor_id="v1",
        conversation_id="c1",
        at=T0 + seq,
        channel="widget",
        text=f"hello {seq}",
        seq=seq,
    )


def said(engine: Engine) -> list[str]:
    return [c["args"]["text"] for c in engine.store.read_commands() if c["kind"] == "say"]


def test_an_event_that_overtook_an_earlier_one_waits_for_it(
    redis_client: Client, tmp_path: Path
) -> None:
    engine, _ = make_engine(redis_client, tmp_path)
    for seq in (1, 3, 4, 2):
        engine.handle(message(seq))
    assert said(engine) == [f"You said hello {n}" for n in (1, 2, 3, 4)]


def test_a_held_event_delivered_again_is_held_once(redis_client: Client, tmp_path: Path) -> None:
    engine, _ = make_engine(redis_client, tmp_path)
    for seq in (1, 3, 3, 2, 3):
        engine.handle(message(seq))
    assert said(engine) == [f"You said hello {n}" for n in (1, 2, 3)]


def test_events_wait_for_a_missing_one_only_so_long(redis_client: Client, tmp_path: Path) -> None:
    engine, clock = make_engine(redis_client, tmp_path)
    engine.handle(message(1))
    engine.handle(message(3))
    clock.advance(GAP_WAIT - 1)
    engine.fire_due_timers()
    assert said(engine) == ["You said hello 1"]
    clock.advance(1)
    engine.fire_due_timers()
    assert said(engine) == ["You said hello 1", "You said hello 3"]
    lines = [line["what"] for record in engine.store.traces("v1") for line in record["lines"]]
    assert "event 2 never came; going on without it" in lines


def test_a_missing_event_that_comes_after_all_is_applied_once(
    redis_client: Client, tmp_path: Path
) -> None:
    engine, clock = make_engine(redis_client, tmp_path)
    engine.handle(message(1))
    engine.handle(message(3))
    clock.advance(GAP_WAIT)
    engine.fire_due_timers()
    engine.handle(message(2))
    engine.handle(message(2))
    assert said(engine) == [f"You said hello {n}" for n in (1, 3, 2)]


def test_a_state_from_before_numbering_takes_the_first_number_as_it_comes(
    redis_client: Client, tmp_path: Path
) -> None:
    engine, _ = make_engine(redis_client, tmp_path)
    engine.handle(replace(message(0), seq=None))  # the visitor's state has no number yet
    engine.handle(message(7))
    engine.handle(message(8))
    assert said(engine) == [f"You said hello {n}" for n in (0, 7, 8)]


def test_events_without_a_number_are_applied_as_they_come(
    redis_client: Client, tmp_path: Path
) -> None:
    engine, _ = make_engine(redis_client, tmp_path)
    engine.handle(message(1))
    engine.handle(message(3))  # held: 2 is missing
    engine.handle(replace(message(9), seq=None))  # an integrator's event, not the chat's
    assert said(engine) == ["You said hello 1", "You said hello 9"]


def test_an_ended_conversation_does_not_drop_the_wait_for_a_missing_event(
    redis_client: Client, tmp_path: Path
) -> None:
    engine, clock = make_engine(redis_client, tmp_path)
    engine.handle(message(1))
    engine.handle(message(3))
    ended = Event(
        id="end",
        type="conversation.ended",
        visitor_id="v1",
        conversation_id="c1",
        at=T0 + 4,
        seq=None,
    )
    engine.handle(ended)
    clock.advance(GAP_WAIT)
    engine.fire_due_timers()
    assert said(engine) == ["You said hello 1", "You said hello 3"]
