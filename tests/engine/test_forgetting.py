"""A visitor deleted for a privacy request: the engine keeps nothing about them but a
tombstone, and no late event brings them back; the funnel's counts stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.client import Client
from engine.core import Engine
from engine.events import Event, EventType
from engine.flows import FlowRegistry
from engine.metrics import Metrics
from engine.ports import ManualClock
from engine.store import RedisStore
from tests.engine.flows import PICK

T0 = 1_767_225_600.0


@pytest.fixture
def engine(redis_client: Client, tmp_path: Path) -> Engine:
    (tmp_path / "pick.yaml").write_text(PICK)
    flows = FlowRegistry(redis_client)
    assert not flows.load([tmp_path]).failed()
    return Engine(RedisStore(redis_client), flows, ManualClock(T0))


def event(number: int, kind: EventType, text: str | None = None) -> Event:
    return Event(
        id=f"e{number}",
        type=kind,
        visitor_id="v1",
        conversation_id="c1",
        at=T0 + number,
        seq=number,
        contact={"name": "Ana"},
        text=text,
    )


def test_a_forgotten_visitor_leaves_no_state_rows_trace_or_timer(
    engine: Engine, redis_client: Client
) -> None:
    engine.handle(event(1, "message.received", text="hi"))  # the flow waits with a timeout
    metrics = Metrics(redis_client)
    assert metrics.drill_down("pick")[0]
    assert engine.store.pending_timers() == 1
    engine.handle(event(2, "visitor.forgotten"))
    state, _ = engine.store.load("v1")
    assert (state.facts, state.runs, state.funnel, state.timers) == ({}, {}, {}, {})
    assert state.forgotten
    assert metrics.drill_down("pick")[0] == []
    assert engine.store.traces("v1") == []
    assert engine.store.pending_timers() == 0
    assert metrics.funnel("pick").triggers == 1  # the count stays: it names no one


def test_no_late_event_brings_a_forgotten_visitor_back(
    engine: Engine, redis_client: Client
) -> None:
    engine.handle(event(1, "message.received", text="hi"))
    engine.handle(event(2, "visitor.forgotten"))
    assert engine.handle(event(1, "message.received", text="hi")) is None  # redelivered
    assert engine.handle(event(3, "message.received", text="after")) is None
    assert Metrics(redis_client).drill_down("pick")[0] == []
    assert [c["args"]["text"] for c in engine.store.read_commands()] == ["Pick"]


def test_a_visitor_forgotten_in_the_batch_that_started_a_flow_leaves_no_row(
    engine: Engine, redis_client: Client
) -> None:
    engine.handle_batch([event(1, "message.received", text="hi"), event(2, "visitor.forgotten")])
    assert Metrics(redis_client).drill_down("pick")[0] == []
    assert engine.store.traces("v1") == []
