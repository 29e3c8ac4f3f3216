"""Funnel figures, the drill-down's pages and filters, and Redis restarts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.client import Client
from engine.core import Engine
from engine.errors import InvalidInput
from engine.events import Event, EventType
from engine.flows import FlowRegistry
from engine.metrics import Metrics, prometheus_text
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis
from engine.store import RedisStore
from tests.engine.flows import PICK


def engine_on(client: Client, folder: Path, clock: ManualClock) -> Engine:
    (folder / "pick.yaml").write_text(PICK)
    flows = FlowRegistry(client)
    assert not flows.load([folder]).failed()
    return Engine(RedisStore(client), flows, clock)


def event(
    visitor: str, kind: EventType, at: float, text: str | None = None, payload: str | None = None
) -> Event:
    return Event(
        id=f"{visitor}-{kind}-{at}",
        type=kind,
        visitor_id=visitor,
        conversation_id=f"c-{visitor}",
        at=at,
        channel="widget",
        state="hosted",
        text=text,
        payload=payload,
    )


def visit(engine: Engine, visitor: str, at: float, *, click: bool) -> None:
    engine.handle(event(visitor, "message.received", at, text="hi"))
    if click:
        engine.handle(event(visitor, "button.clicked", at + 1, payload="pick|1|menu|0"))


@pytest.fixture
def engine(redis_client: Client, tmp_path: Path) -> Engine:
    return engine_on(redis_client, tmp_path, ManualClock())


def test_the_funnel_counts_visitors_and_rates(engine: Engine, redis_client: Client) -> None:
    for number in range(4):
        visit(engine, f"v{number}", 1_767_225_600.0 + number, click=number < 3)
    funnel = Metrics(redis_client).funnel("pick")
    assert (funnel.triggered, funnel.engaged, funnel.completed) == (4, 3, 3)
    assert (funnel.engagement_rate, funnel.completion_rate) == (75.0, 75.0)
    assert funnel.steps == {"menu": 4, "done": 3}


def test_a_day_range_counts_visitors_by_the_day_of_their_first_trigger(
    engine: Engine, redis_client: Client
) -> None:
    day = 86_400.0
    visit(engine, "early", 1_767_225_600.0, click=False)  # 2026-01-01
    visit(engine, "late", 1_767_225_600.0 + day, click=True)  # 2026-01-02
    metrics = Metrics(redis_client)
    assert metrics.funnel("pick", ["2026-01-01"]).triggered == 1
    assert metrics.funnel("pick", ["2026-01-02"]).engaged == 1
    assert metrics.funnel("pick", ["2026-01-01", "2026-01-02"]).triggered == 2


def test_the_funnel_of_each_day_oldest_first(engine: Engine, redis_client: Client) -> None:
    day = 86_400.0
    visit(engine, "early", 1_767_225_600.0, click=False)  # 2026-01-01
    visit(engine, "late", 1_767_225_600.0 + day, click=True)  # 2026-01-02
    visit(engine, "early", 1_767_225_600.0 + day + 60, click=True)  # back a day later
    daily = Metrics(redis_client).daily("pick")
    assert list(daily) == ["2026-01-01", "2026-01-02"]
    first, second = daily.values()
    assert (first.triggers, first.triggered, first.engaged) == (1, 1, 1)  # early's cohort day
    assert (second.triggers, second.triggered, second.engaged) == (1, 1, 1)
    assert second.retriggers == 1  # early's run still waited at the menu
    assert Metrics(redis_client).daily("pick", ["2026-01-03"])["2026-01-03"].triggers == 0


def test_the_funnel_of_each_version(engine: Engine, redis_client: Client, tmp_path: Path) -> None:
    visit(engine, "old", 1_767_225_600.0, click=True)
    (tmp_path / "pick.yaml").write_text(PICK + "# changed: a new version\n")
    assert not engine.flows.load([tmp_path]).failed()
    visit(engine, "new", 1_767_225_700.0, click=False)
    versions = Metrics(redis_client).by_version("pick")
    assert len(versions) == 2
    assert sorted((f.triggered, f.engaged) for f in versions.values()) == [(1, 0), (1, 1)]
    assert all(f.scope == version for version, f in versions.items())
    only = Metrics(redis_client).by_version("pick", ["2026-01-02"])
    assert only == {}


def test_the_drill_down_pages_newest_first_without_repeats(
    engine: Engine, redis_client: Client
) -> None:
    for number in range(7):
        visit(engine, f"v{number}", 1_767_225_600.0 + number * 10, click=number % 2 == 0)
    metrics = Metrics(redis_client)
    seen, cursor = [], None
    while True:
        rows, cursor = metrics.drill_down("pick", limit=3, cursor=cursor)
        seen += [row["visitor_id"] for row in rows]
        if cursor is None:
            break
    assert seen == [f"v{n}" for n in range(6, -1, -1)]


def test_the_drill_down_filters_by_status_and_time(engine: Engine, redis_client: Client) -> None:
    for number in range(6):
        visit(engine, f"v{number}", 1_767_225_600.0 + number * 10, click=number % 2 == 0)
    metrics = Metrics(redis_client)
    rows, _ = metrics.drill_down("pick", status="not_engaged")
    assert [r["visitor_id"] for r in rows] == ["v5", "v3", "v1"]
    rows, _ = metrics.drill_down("pick", since=1_767_225_620.0, until=1_767_225_640.0)
    assert [r["visitor_id"] for r in rows] == ["v4", "v3", "v2"]
    assert rows[0]["status"] == "completed"
    assert rows[0]["conversation_id"] == "c-v4"


def test_a_forged_cursor_is_refused(engine: Engine, redis_client: Client) -> None:
    with pytest.raises(InvalidInput) as raised:
        Metrics(redis_client).drill_down("pick", cursor="not-a-cursor")
    assert raised.value.field == "cursor"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="parley-aof-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_pending_timer_survives_a_redis_restart(data_dir: Path, tmp_path: Path) -> None:
    clock = ManualClock()
    with EmbeddedRedis(data_dir) as server:
        engine = engine_on(server.client(), tmp_path, clock)
        visit(engine, "v1", clock.now(), click=False)
    with EmbeddedRedis(data_dir) as server:  # a new server process, reading the AOF back
        engine = engine_on(server.client(), tmp_path, clock)
        clock.advance(3600)
        assert engine.fire_due_timers() == 1
        assert Metrics(server.client()).funnel("pick").completed == 1


def test_funnels_are_exported_for_prometheus(engine: Engine, redis_client: Client) -> None:
    visit(engine, "v1", 1_767_225_600.0, click=True)
    text = prometheus_text([Metrics(redis_client).funnel("pick")])
    assert 'parley_flow_triggers_total{flow="pick"} 1\n' in text
    assert 'parley_flow_engaged_visitors{flow="pick"} 1\n' in text
    assert 'parley_flow_step_visitors{flow="pick",step="done"} 1\n' in text
    assert "# TYPE parley_flow_triggers_total counter\n" in text


def test_a_run_whose_flow_version_is_gone_ends_and_says_why(
    engine: Engine, redis_client: Client
) -> None:
    visit(engine, "v1", 1_767_225_600.0, click=False)  # waits at the menu
    redis_client.delete(engine.store.keys.flow_sources())
    bare = Engine(engine.store, FlowRegistry(redis_client), engine.clock)  # nothing loaded
    bare.handle(event("v1", "button.clicked", 1_767_225_700.0, payload="pick|1|menu|0"))
    state, _ = bare.store.load("v1")
    assert not state.runs["pick"].active
    assert "no longer available" in state.runs["pick"].outcome
