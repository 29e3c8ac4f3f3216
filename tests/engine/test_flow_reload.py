"""Reloading flows: the set is replaced, a bad file keeps its previous version, every process
runs the same set (each registry here stands for one process), and a removed flow's waiting
runs end saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.client import Client
from engine.core import Engine
from engine.events import Event, EventType
from engine.flows import SET_CHECK_EVERY, FlowRegistry
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis
from engine.store import RedisStore
from engine.worker import EventStream, Worker
from tests.engine.flows import ECHO, NUDGE, PICK


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()  # every process's: time moves only when a test says so


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The flows folder: `pick` waits for a button (an hour at most), `echo` answers."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "pick.yaml").write_text(PICK)
    (flows / "echo.yaml").write_text(ECHO)
    return flows


def process(client: Client, clock: ManualClock) -> Engine:
    """One process's engine, its registry on the shared clock (nothing loaded yet)."""
    return Engine(RedisStore(client), FlowRegistry(client, clock=clock.now), clock)


@pytest.fixture
def engine(redis_client: Client, folder: Path, clock: ManualClock) -> Engine:
    engine = process(redis_client, clock)
    assert not engine.flows.load([folder]).failed()
    return engine


def written(text: str, at: float, kind: EventType = "message.received") -> Event:
    """A message of visitor v1 (with `message.sent`, of an agent to them)."""
    return Event(
        id=f"{kind}-{text}-{at}",
        type=kind,
        visitor_id="v1",
        conversation_id="c1",
        at=at,
        state="hosted",
        text=text,
        sender="agent" if kind == "message.sent" else "visitor",
    )


def message(engine: Engine, text: str, kind: EventType = "message.received") -> None:
    engine.handle(written(text, engine.clock.now(), kind))


def said(engine: Engine) -> list[str]:
    return sorted(c["args"]["text"] for c in engine.store.read_commands() if c["kind"] == "say")


def trace_lines(engine: Engine) -> list[str]:
    return [
        f"{line['path']} {line['what']}"
        for record in engine.store.traces("v1")
        for line in record["lines"]
    ]


def ids(engine: Engine) -> list[str]:
    return sorted(flow.id for flow in engine.flows.current())


def versions(engine: Engine) -> dict[str, str]:
    return {flow.id: flow.version for flow in engine.flows.current()}


def test_a_reload_replaces_the_set_and_a_deleted_flow_no_longer_triggers(
    engine: Engine, folder: Path
) -> None:
    (folder / "echo.yaml").unlink()
    assert not engine.flows.load([folder]).failed()
    assert ids(engine) == ["pick"]
    message(engine, "hello")
    assert said(engine) == ["Pick"]
    assert list(engine.store.load("v1")[0].runs) == ["pick"]


def test_a_waiting_run_of_a_removed_flow_ends_and_its_timer_does_not_fire_it(
    engine: Engine, folder: Path, clock: ManualClock
) -> None:
    message(engine, "hello")  # the run waits for a click, or an hour
    (folder / "pick.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(3600)
    assert engine.fire_due_timers() == 1
    state, _ = engine.store.load("v1")
    run = state.runs["pick"]
    assert (run.active, run.outcome) == (False, "the flow was removed")  # not completed
    assert state.timers == {}
    assert "pick:steps.menu run ended: the flow was removed" in trace_lines(engine)
    assert "pick:steps.done entered" not in trace_lines(engine)
    assert not any("stale timer" in line for line in trace_lines(engine))
    assert engine.store.pending_timers() == 0


def test_a_waiting_run_of_a_removed_flow_ends_at_the_visitors_next_event(
    engine: Engine, folder: Path
) -> None:
    message(engine, "hello")
    (folder / "pick.yaml").unlink()
    engine.flows.load([folder])
    message(engine, "A")  # only echo hears it
    state, _ = engine.store.load("v1")
    assert state.runs["pick"].outcome == "the flow was removed"
    assert state.timers == {}
    assert engine.store.pending_timers() == 0  # its timeout left the schedule too
    assert said(engine) == ["Pick", "You said A", "You said hello"]


def test_a_silence_clock_of_a_removed_flow_is_dropped(
    engine: Engine, folder: Path, clock: ManualClock
) -> None:
    (folder / "nudge.yaml").write_text(NUDGE)
    engine.flows.load([folder])
    message(engine, "How can I help?", kind="message.sent")  # the agent: the clock starts
    (folder / "nudge.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(60)
    assert engine.fire_due_timers() == 1
    assert "Still there?" not in said(engine)
    assert "nudge:trigger clock dropped: the flow was removed" in trace_lines(engine)
    assert engine.store.pending_timers() == 0


def test_a_bad_file_keeps_its_previous_version_running_and_its_findings_are_kept(
    engine: Engine, folder: Path
) -> None:
    before = versions(engine)
    pick = folder / "pick.yaml"
    pick.write_text(PICK.replace("start: menu", "start: nowhere"))
    assert engine.flows.load([folder]).failed()
    assert versions(engine) == before
    loaded = engine.flows.loaded
    assert loaded.failed == (str(pick),)
    assert [f.severity for f in loaded.findings] == ["error"]
    kept = loaded.kept(str(pick))
    assert kept is not None
    assert kept.version == before["pick"]
    message(engine, "hello")
    assert "Pick" in said(engine)  # the previous version still triggers


def test_a_bad_file_that_never_loaded_runs_nothing(engine: Engine, folder: Path) -> None:
    (folder / "broken.yaml").write_text("id: broken\ntrigger: {conversation_started: }\n")
    engine.flows.load([folder])
    assert ids(engine) == ["echo", "pick"]
    assert engine.flows.loaded.kept(str(folder / "broken.yaml")) is None


def test_a_reload_that_changes_nothing_keeps_the_version(engine: Engine, folder: Path) -> None:
    version = engine.flows.loaded.version
    engine.flows.load([folder])
    assert engine.flows.loaded.version == version
    (folder / "echo.yaml").write_text(ECHO + "# a new version\n")
    engine.flows.load([folder])
    assert engine.flows.loaded.version == version + 1


def test_a_second_process_swaps_to_the_set_the_first_reloaded(
    engine: Engine, redis_client: Client, folder: Path, clock: ManualClock, tmp_path: Path
) -> None:
    other = process(redis_client, clock)
    other.flows.start([tmp_path / "elsewhere"], publish=False)  # runs the published set
    assert ids(other) == ["echo", "pick"]
    (folder / "echo.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(SET_CHECK_EVERY / 2)
    assert other.flows.refresh() is True  # its first look since it started
    assert ids(other) == ["pick"]
    (folder / "echo.yaml").write_text(ECHO)
    engine.flows.load([folder])
    assert other.flows.refresh() is False  # it looked less than SET_CHECK_EVERY ago
    clock.advance(SET_CHECK_EVERY)
    assert other.flows.refresh() is True
    assert ids(other) == ids(engine) == ["echo", "pick"]
    assert other.flows.loaded == engine.flows.loaded


def test_the_engine_of_a_second_worker_runs_the_new_set(
    engine: Engine, redis_client: Client, folder: Path, clock: ManualClock
) -> None:
    other = process(redis_client, clock)
    other.flows.start([folder], publish=False)
    worker = Worker(other, "w2")
    worker.poll()
    (folder / "echo.yaml").unlink()
    engine.flows.load([folder])
    clock.advance(SET_CHECK_EVERY)
    EventStream(redis_client).publish(written("hello", clock.now()))
    assert worker.poll() == 1
    assert said(other) == ["Pick"]  # echo is gone for the second worker too


def test_a_run_started_by_a_process_that_is_ahead_is_not_ended_by_one_behind(
    engine: Engine, redis_client: Client, folder: Path, clock: ManualClock
) -> None:
    behind = process(redis_client, clock)
    behind.flows.start([folder], publish=False)
    behind.flows.refresh()  # it has just looked: it would not look again for a second
    (folder / "size.yaml").write_text(PICK.replace("id: pick", "id: size"))
    (folder / "pick.yaml").unlink()
    engine.flows.load([folder])
    message(engine, "hello")  # the new flow starts, on the process that reloaded
    message(behind, "a question")  # the other looks once more before ending the run
    assert engine.store.load("v1")[0].runs["size"].active
    assert ids(behind) == ["echo", "size"]


def test_a_reload_keeps_the_version_the_published_set_ran_for_a_bad_file(
    engine: Engine, redis_client: Client, folder: Path, clock: ManualClock
) -> None:
    stale = process(redis_client, clock)
    stale.flows.start([folder], publish=False)
    pick = folder / "pick.yaml"
    pick.write_text(PICK.replace("Pick", "Choose"))
    engine.flows.load([folder])  # a new good version, published
    pick.write_text("id: pick\n")
    stale.flows.load([folder])  # its own copy is older: the published one is kept
    assert versions(stale)["pick"] == versions(engine)["pick"]
    assert stale.flows.loaded.failed == (str(pick),)


def test_a_process_that_starts_without_redis_runs_its_files_then_publishes_them(
    own_redis: EmbeddedRedis, folder: Path, clock: ManualClock
) -> None:
    client = own_redis.client()
    own_redis.stop()
    flows = FlowRegistry(client, clock=clock.now)
    flows.start([folder])
    assert sorted(flow.id for flow in flows.current()) == ["echo", "pick"]
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
    assert sorted(flow.id for flow in flows.current()) == ["echo", "pick"]
