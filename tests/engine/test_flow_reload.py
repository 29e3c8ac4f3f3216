"""Reloading flows: the set is replaced, a bad file keeps its previous version, every process
runs the same set (each registry here stands for one process), and a removed flow's waiting
runs end saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from engine.core import Engine
from engine.events import Event, EventType
from engine.flows import SET_CHECK_EVERY, FlowRegistry
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis
from engine.store import RedisStore
from engine.worker import EventStream, Worker
from tests.engine.flows import ECHO

# Waits for a click, an hour at most; the timeout says goodbye.
SURVEY = """
id: survey
trigger:
  message_received:
    keywords: [survey]
start: ask
steps:
  ask:
    say: "Happy with us?"
    buttons:
      - {label: "Yes", goto: thanks}
    on: {timeout: {after: 1h, goto: bye}}
  thanks:
    say: "Thank you!"
    end: true
  bye:
    say: "Maybe next time."
    end: true
"""
NUDGE = """
id: nudge
trigger:
  visitor_timeout:
    after: 10m
start: nudge
steps:
  nudge:
    say: "Still there?"
    end: true
"""
T0 = 1_767_225_600.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "survey.yaml").write_text(SURVEY)
    (flows / "echo.yaml").write_text(ECHO)
    return flows


def process(client: redis.Redis, clock: ManualClock) -> Engine:
    """One process's engine, its registry on the shared clock (nothing loaded yet)."""
    return Engine(RedisStore(client), FlowRegistry(client, clock=clock.now), clock)


@pytest.fixture
def engine(redis_client: redis.Redis, folder: Path, clock: ManualClock) -> Engine:
    engine = process(redis_client, clock)
    assert not engine.flows.load([folder]).failed()
    return engine


def message(
    engine: Engine, text: str, visitor: str = "v1", kind: EventType = "message.received"
) -> None:
    engine.handle(
        Event(
            id=f"{visitor}-{text}-{engine.clock.now()}",
            type=kind,
            visitor_id=visitor,
            conversation_id=f"c-{visitor}",
            at=engine.clock.now(),
            state="hosted",
            text=text,
            sender="agent" if kind == "message.sent" else "visitor",
        )
    )


def said(engine: Engine) -> list[str]:
    return [c["args"]["text"] for c in engine.store.read_commands() if c["kind"] == "say"]


def trace_lines(engine: Engine, visitor: str = "v1") -> list[str]:
    return [
        f"{line['path']} {line['what']}"
        for record in engine.store.traces(visitor)
        for line in record["lines"]
    ]


def ids(engine: Engine) -> list[str]:
    return sorted(flow.id for flow in engine.flows.current())


def test_a_reload_replaces_the_set_and_a_deleted_flow_no_longer_triggers(
    engine: Engine, folder: Path
) -> None:
    (folder / "echo.yaml").unlink()
    assert not engine.flows.load([folder]).failed()
    assert ids(engine) == ["survey"]
    message(engine, "hello")
    assert said(engine) == []
    assert engine.store.load("v1")[0].runs == {}


def test_a_waiting_run_of_a_removed_flow_ends_and_its_timer_does_not_fire_it(
    engine: Engine, folder: Path, clock: ManualClock
) -> None:
    message(engine, "survey")  # the run waits for a click, or an hour
    (folder / "survey.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(3600)
    assert engine.fire_due_timers() == 1
    state, _ = engine.store.load("v1")
    assert (state.runs["survey"].active, state.runs["survey"].outcome) == (
        False,
        "the flow was removed",
    )
    assert state.timers == {}
    assert "survey:steps.ask run ended: the flow was removed" in trace_lines(engine)
    assert "Maybe next time." not in said(engine)
    assert not any("stale timer" in line for line in trace_lines(engine))
    assert engine.store.pending_timers() == 0


def test_a_waiting_run_of_a_removed_flow_ends_at_the_visitors_next_event(
    engine: Engine, folder: Path
) -> None:
    message(engine, "survey")
    (folder / "survey.yaml").unlink()
    engine.flows.load([folder])
    message(engine, "yes")  # would have been an answer; echo answers it instead
    state, _ = engine.store.load("v1")
    assert state.runs["survey"].outcome == "the flow was removed"
    assert state.timers == {}
    assert engine.store.pending_timers() == 0  # its timeout left the schedule too
    assert sorted(said(engine)) == ["Happy with us?", "You said survey", "You said yes"]


def test_a_silence_clock_of_a_removed_flow_is_dropped(
    redis_client: redis.Redis, folder: Path, clock: ManualClock
) -> None:
    (folder / "nudge.yaml").write_text(NUDGE)
    engine = process(redis_client, clock)
    engine.flows.load([folder])
    message(engine, "How can I help?", kind="message.sent")  # the agent: the clock starts
    (folder / "nudge.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(600)
    assert engine.fire_due_timers() == 1
    assert "Still there?" not in said(engine)
    assert "nudge:trigger clock dropped: the flow was removed" in trace_lines(engine)
    assert engine.store.pending_timers() == 0


def test_a_bad_file_keeps_its_previous_version_running_and_its_findings_are_kept(
    engine: Engine, folder: Path
) -> None:
    before = {flow.id: flow.version for flow in engine.flows.current()}
    (folder / "survey.yaml").write_text(SURVEY.replace("start: ask", "start: nowhere"))
    assert engine.flows.load([folder]).failed()
    assert {flow.id: flow.version for flow in engine.flows.current()} == before
    loaded = engine.flows.loaded
    assert loaded.failed == (str(folder / "survey.yaml"),)
    assert [f.severity for f in loaded.findings] == ["error"]
    kept = loaded.kept(str(folder / "survey.yaml"))
    assert kept is not None
    assert kept.version == before["survey"]
    message(engine, "survey")
    assert "Happy with us?" in said(engine)  # the previous version still triggers


def test_a_bad_file_that_never_loaded_runs_nothing(engine: Engine, folder: Path) -> None:
    (folder / "broken.yaml").write_text("id: broken\ntrigger: {conversation_started: }\n")
    engine.flows.load([folder])
    assert ids(engine) == ["echo", "survey"]
    assert engine.flows.loaded.kept(str(folder / "broken.yaml")) is None


def test_a_reload_that_changes_nothing_keeps_the_version(engine: Engine, folder: Path) -> None:
    version = engine.flows.loaded.version
    engine.flows.load([folder])
    assert engine.flows.loaded.version == version
    (folder / "echo.yaml").write_text(ECHO + "# a new version\n")
    engine.flows.load([folder])
    assert engine.flows.loaded.version == version + 1


def test_a_second_process_swaps_to_the_set_the_first_reloaded(
    engine: Engine, redis_client: redis.Redis, folder: Path, clock: ManualClock, tmp_path: Path
) -> None:
    other = process(redis_client, clock)
    other.flows.start([tmp_path / "elsewhere"], publish=False)  # runs the published set
    assert ids(other) == ["echo", "survey"]
    (folder / "echo.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(SET_CHECK_EVERY / 2)
    assert other.flows.refresh() is True  # its first look since it started
    assert ids(other) == ["survey"]
    (folder / "echo.yaml").write_text(ECHO)
    engine.flows.load([folder])
    assert other.flows.refresh() is False  # it looked less than SET_CHECK_EVERY ago
    clock.advance(SET_CHECK_EVERY)
    assert other.flows.refresh() is True
    assert ids(other) == ids(engine) == ["echo", "survey"]
    assert other.flows.loaded == engine.flows.loaded


def test_the_engine_of_a_second_worker_runs_the_new_set(
    engine: Engine, redis_client: redis.Redis, folder: Path, clock: ManualClock
) -> None:
    other = process(redis_client, clock)
    other.flows.start([folder], publish=False)
    worker = Worker(other, "w2")
    worker.poll()
    (folder / "echo.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(SET_CHECK_EVERY)
    EventStream(redis_client).publish(
        Event(
            id="m1",
            type="message.received",
            visitor_id="v1",
            conversation_id="c1",
            at=clock.now(),
            state="hosted",
            text="hello",
        )
    )
    assert worker.poll() == 1
    assert said(other) == []  # echo is gone for the second worker too


def test_a_run_started_by_a_process_that_is_ahead_is_not_ended_by_one_behind(
    engine: Engine, redis_client: redis.Redis, folder: Path, clock: ManualClock
) -> None:
    behind = process(redis_client, clock)
    behind.flows.start([folder], publish=False)
    behind.flows.refresh()
    (folder / "welcome.yaml").write_text(SURVEY.replace("id: survey", "id: welcome"))
    (folder / "survey.yaml").unlink()
    engine.flows.load([folder])
    message(engine, "survey")  # the new flow starts, on the process that reloaded
    message(behind, "no thanks")  # the other has not looked yet: it looks before ending
    assert engine.store.load("v1")[0].runs["welcome"].active
    assert ids(behind) == ["echo", "welcome"]


def test_a_reload_keeps_the_version_the_published_set_ran_for_a_bad_file(
    engine: Engine, redis_client: redis.Redis, folder: Path, clock: ManualClock
) -> None:
    stale = process(redis_client, clock)
    stale.flows.start([folder], publish=False)
    (folder / "survey.yaml").write_text(SURVEY.replace("Happy", "Glad"))
    engine.flows.load([folder])  # a new good version, published
    (folder / "survey.yaml").write_text("id: survey\n")
    stale.flows.load([folder])  # its own copy is older: the published one is kept
    running = {flow.id: flow.version for flow in stale.flows.current()}
    published = {flow.id: flow.version for flow in engine.flows.current()}
    assert running["survey"] == published["survey"]
    assert stale.flows.loaded.failed == (str(folder / "survey.yaml"),)


def test_a_process_that_starts_without_redis_runs_its_files_then_publishes_them(
    own_redis: EmbeddedRedis, folder: Path, clock: ManualClock
) -> None:
    client = own_redis.client()
    own_redis.stop()
    flows = FlowRegistry(client, clock=clock.now)
    flows.start([folder])
    assert sorted(flow.id for flow in flows.current()) == ["echo", "survey"]
    assert flows.loaded.version == 0  # held in this process alone
    own_redis.start()
    assert flows.refresh() is True
    assert flows.loaded.version == 1
    other = FlowRegistry(client)
    other.start([], publish=False)
    assert [flow.id for flow in other.current()] == [flow.id for flow in flows.current()]


def test_a_process_that_starts_without_redis_runs_the_published_set_once_it_answers(
    own_redis: EmbeddedRedis, folder: Path, clock: ManualClock, tmp_path: Path
) -> None:
    client = own_redis.client()
    FlowRegistry(client).load([folder])
    own_redis.stop()
    older = tmp_path / "older"
    older.mkdir()
    (older / "echo.yaml").write_text(ECHO)
    flows = FlowRegistry(client, clock=clock.now)
    flows.start([older], publish=False)  # a web process of `parley serve`, or a worker
    assert [flow.id for flow in flows.current()] == ["echo"]
    own_redis.start()
    assert flows.refresh() is True
    assert sorted(flow.id for flow in flows.current()) == ["echo", "survey"]
