"""The timer schedule: one small sorted set per shard and minute, fired in order, never early."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.client import Client
from engine.core import Engine
from engine.effects import Effects
from engine.events import Event
from engine.flows import FlowRegistry
from engine.ports import ManualClock
from engine.state import Timer
from engine.store import RedisStore
from tests.engine.flows import WAIT_THEN_ASK

T0 = 1_767_225_600.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def engine(redis_client: Client, tmp_path: Path, clock: ManualClock) -> Engine:
    (tmp_path / "nudge.yaml").write_text(WAIT_THEN_ASK)
    flows = FlowRegistry(redis_client)
    assert not flows.load([tmp_path]).failed()
    return Engine(RedisStore(redis_client), flows, clock)


def hello(visitor: str, at: float) -> Event:
    return Event(
        id=f"{visitor}-{at}",
        type="message.received",
        visitor_id=visitor,
        conversation_id=f"c-{visitor}",
        at=at,
        state="hosted",
        text="hi",
    )


def schedule_keys(client: Client) -> list[bytes]:
    return sorted(client.scan_iter("parley:*:timer*"))


def test_timers_in_many_minutes_all_fire_and_leave_no_key_behind(
    engine: Engine, clock: ManualClock, redis_client: Client
) -> None:
    for number in range(12):  # due 90 s after messages 25 s apart: over several minutes
        engine.handle(hello(f"v{number}", T0 + 25 * number))
    assert engine.store.pending_timers() == 12
    assert engine.store.next_due() == T0 + 90
    clock.advance(25 * 11 + 90)
    fired = 0
    while done := engine.fire_due_timers():
        fired += done
    assert fired == 12
    assert engine.store.next_due() is None
    assert schedule_keys(redis_client) == []


def test_a_timer_never_fires_before_it_is_due(engine: Engine, clock: ManualClock) -> None:
    engine.handle(hello("v1", T0 + 0.0004))  # due 0.4 ms into a second
    clock.advance(90)
    assert engine.fire_due_timers() == 0
    clock.advance(0.001)
    assert engine.fire_due_timers() == 1


def test_a_stale_entry_is_taken_off_its_minute(
    engine: Engine, clock: ManualClock, redis_client: Client
) -> None:
    state, rev = engine.store.load("v1")
    ghost = Effects("e0")  # a schedule entry whose timer the state does not hold
    ghost.timers.append((True, Timer("step:nudge", T0 + 30, 7, "step", "nudge")))
    assert engine.store.commit(state, rev, ghost)
    clock.advance(60)
    assert engine.fire_due_timers() == 1
    assert "stale timer step:nudge@7 ignored" in str(engine.store.traces("v1"))
    assert schedule_keys(redis_client) == []
