"""States kept in memory between events: fewer loads, never a lost or stale write."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import redis

from engine.core import Engine
from engine.effects import Effects
from engine.events import Event
from engine.kept import KeptStates
from engine.state import VisitorState
from engine.store import COMMIT_CHUNK, RedisStore
from engine.wire import Command, Sending
from tests.engine.test_worker import make_engine, message


def loads_of(engine: Engine) -> list[str]:
    """The ids of the visitors whose states the engine loads from Redis from now on."""
    loaded: list[str] = []
    load_many = engine.store.load_many

    def counting(visitor_ids: Sequence[str]) -> list[tuple[VisitorState, int]]:
        loaded.extend(visitor_ids)
        return load_many(visitor_ids)

    engine.store.load_many = counting  # type: ignore[method-assign]
    return loaded


def seen(engine: Engine, visitor: str = "v1") -> list[str]:
    state, _ = engine.store.load(visitor)
    return list(state.seen)


def test_a_state_written_meanwhile_by_another_process_is_loaded_again_not_overwritten(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    first = make_engine(redis_client, tmp_path)
    second = Engine(RedisStore(redis_client), first.flows, first.clock)
    first.handle(message(1))
    second.handle(message(2))  # `first` still keeps the state of before this event
    first.handle_batch([message(3)])
    first.handle(message(4))
    assert seen(first) == ["m1", "m2", "m3", "m4"]


def test_in_a_batch_of_many_visitors_only_the_one_written_meanwhile_is_applied_again(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    """The batch's commits go out in several chunks; each reply is matched to its own
    visitor, so the one commit that lost its race is the one retried."""
    first = make_engine(redis_client, tmp_path)
    second = Engine(RedisStore(redis_client), first.flows, first.clock)
    visitors = [f"v{n}" for n in range(3 * COMMIT_CHUNK)]
    first.handle_batch([message(1, visitor=v) for v in visitors])
    second.handle(message(2, visitor="v20"))
    loaded = loads_of(first)
    first.handle_batch([message(3, visitor=v) for v in visitors])
    assert loaded == ["v20"]  # the one retry, on a fresh load
    assert seen(first, "v20") == ["m1", "m2", "m3"]
    assert {v: seen(first, v) for v in visitors if v != "v20"} == {
        v: ["m1", "m3"] for v in visitors if v != "v20"
    }


def test_a_batch_s_first_commits_leave_before_its_last_events_are_applied(
    one_redis: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So Redis works through them while the worker applies the rest of the batch. On one
    Redis: a Cluster client collects them and sends them all at the end."""
    engine = make_engine(one_redis, tmp_path)
    visitors = [f"v{n}" for n in range(3 * COMMIT_CHUNK)]
    engine.handle_batch([message(1, visitor=v) for v in visitors])  # kept: no loads next
    log: list[str] = []
    apply, send = engine.runtime.apply, Sending.send

    def applying(state: VisitorState, event: Event) -> Effects | None:
        log.append("apply")
        return apply(state, event)

    def sending(self: Sending, commands: Sequence[Command]) -> None:
        log.extend(["send"] * len(commands))
        send(self, commands)

    monkeypatch.setattr(engine.runtime, "apply", applying)
    monkeypatch.setattr(Sending, "send", sending)
    engine.handle_batch([message(2, visitor=v) for v in visitors])
    assert log.count("send") == len(visitors)
    assert log.index("send") < len(log) - 1 - log[::-1].index("apply")


def test_an_event_redelivered_after_redis_lost_its_commit_is_applied_again(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    engine = make_engine(redis_client, tmp_path)
    for apply in (engine.handle, lambda event: engine.handle_batch([event])):
        engine.handle(message(1))  # kept, with m1 among its applied events
        redis_client.delete(engine.store.keys.visitor("v1"))  # Redis lost that commit
        apply(message(1))  # the stream delivers m1 again: its ack was lost too
        assert seen(engine) == ["m1"]


def test_the_next_event_of_a_kept_visitor_is_applied_without_loading(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    engine = make_engine(redis_client, tmp_path)
    engine.handle(message(1))
    loaded = loads_of(engine)
    engine.handle_batch([message(2), message(1, visitor="v2")])
    engine.handle(message(3))
    assert loaded == ["v2"]
    assert len(engine.kept) == 2


def test_the_least_recently_used_state_goes_first_past_the_size() -> None:
    kept = KeptStates(size=2)
    for visitor in ("a", "b"):
        kept.keep(VisitorState(visitor), 1)
    assert kept.take("a") is not None
    kept.keep(VisitorState("a"), 2)
    kept.keep(VisitorState("c"), 1)
    assert kept.take("b") is None
    assert [kept.take(v) is not None for v in ("a", "c")] == [True, True]


def test_states_of_shards_no_longer_leased_are_dropped() -> None:
    kept = KeptStates()
    for visitor in ("a", "b", "c"):
        kept.keep(VisitorState(visitor), 1)
    kept.retain({0}, lambda visitor: 0 if visitor == "b" else 1)
    assert [kept.take(v) is not None for v in ("a", "b", "c")] == [False, True, False]
