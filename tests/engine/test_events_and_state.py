"""Events in, state stored: bad input is named by field, state round-trips as JSON."""

from __future__ import annotations

import json

import pytest

from engine.errors import EngineError, InvalidInput
from engine.events import Event, parse_event
from engine.state import SEEN_HORIZON, SEEN_MAX, FunnelRecord, Run, Timer, VisitorState
from engine.steps import validate_answer

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

GOOD = {
    "id": "e1",
    "type": "message.received",
    "visitor_id": "v1",
    "conversation_id": "c1",
    "at": 1767225600,
    "text": "hi",
    "contact": {"name": "Ana", "tags": ["vip"]},
}


def test_an_event_round_trips_through_json() -> None:
    event = parse_event(GOOD)
    assert parse_event(event.to_json()) == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "message.exploded"}, "type"),
        ({"id": ""}, "id"),
        ({"at": "yesterday"}, "at"),
        ({"at": True}, "at"),
        ({"state": "sleeping"}, "state"),
        ({"is_new": "yes"}, "is_new"),
        ({"contact": {"shoe_size": 42}}, "contact"),
        ({"contact": {"tags": "vip"}}, "contact.tags"),
        ({"version": 2}, "version"),
        ({"sender": "cat"}, "sender"),
        ({"notify_after": "10 minutes"}, "notify_after"),
    ],
)
def test_a_bad_event_names_its_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_event({**GOOD, **change})
    assert raised.value.field == field


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_an_event_that_is_not_a_json_object_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_event(raw)


def test_state_round_trips_as_versioned_json() -> None:
    state = VisitorState("v1", facts={"visitor": {"is_new": True}})
    state.runs["f"] = Run("f", "abc", 1, "s", 1.0, "c1", vars={"n": 2})
    state.timers["step:f"] = Timer("step:f", 5.0, 3, "step", "f")
    state.funnel["f"] = FunnelRecord(1.0, 2.0, "widget", "c1", triggers=2, counted=["all:x"])
    assert VisitorState.from_json(state.to_json()) == state


def test_a_state_written_before_the_waiting_streak_was_kept_still_reads() -> None:
    data = json.loads(VisitorState("v1", waiting_since=5.0).to_json())
    del data["waiting_since"]
    assert VisitorState.from_json(json.dumps(data)).waiting_since is None


def test_a_whole_number_beyond_64_bits_is_kept_not_refused() -> None:
    state = VisitorState("v1")
    state.runs["f"] = Run("f", "abc", 1, "s", 1.0, "c1", vars={"n": 2**70, "small": 3})
    again = VisitorState.from_json(state.to_json())
    assert again.runs["f"].vars == {"n": float(2**70), "small": 3}


def test_state_of_an_unknown_layout_is_refused() -> None:
    data = json.loads(VisitorState("v1").to_json())
    data["layout"] = 99
    with pytest.raises(EngineError):
        VisitorState.from_json(json.dumps(data))


def test_a_redelivered_event_is_recognised_however_many_events_came_since() -> None:
    state = VisitorState("v1")
    assert state.remember("e1", T0)
    for n in range(1_000):
        assert state.remember(f"later-{n}", T0 + n)
    assert not state.remember("e1", T0 + 3_600)  # a Meta retry an hour later
    again = VisitorState.from_json(state.to_json())
    assert not again.remember("e1", T0 + 3_600)  # and after a save and load


def test_applied_ids_are_forgotten_a_day_after_newer_ones_so_a_state_stays_small() -> None:
    state = VisitorState("v1")
    for n in range(100):
        state.remember(f"day-1-{n}", T0 + n)
    state.remember("day-2", T0 + SEEN_HORIZON + 200)
    assert list(state.seen) == ["day-2"]
    assert state.remember("day-1-0", T0 + SEEN_HORIZON + 300)  # long past any retry


def test_a_flood_of_events_keeps_only_the_newest_ids() -> None:
    state = VisitorState("v1")
    for n in range(SEEN_MAX + 10):
        state.remember(f"e{n}", T0)
    assert len(state.seen) == SEEN_MAX
    assert "e9" not in state.seen
    assert f"e{SEEN_MAX + 9}" in state.seen


def test_ids_of_a_state_written_before_stamps_are_kept_a_day_from_the_next_event() -> None:
    data = json.loads(VisitorState("v1").to_json())
    data["seen"] = ["old-1", "old-2"]
    state = VisitorState.from_json(json.dumps(data))
    assert state.remember("new", T0)
    assert not state.remember("old-1", T0 + 10)
    state.remember("next-day", T0 + SEEN_HORIZON + 1)
    assert "old-2" not in state.seen


@pytest.mark.parametrize(
    ("expect", "text", "value"),
    [
        ("email", " Ana@Example.com ", "ana@example.com"),
        ("email", "ana@", None),
        ("phone", "+49 (30) 123-4567", "+49301234567"),
        ("phone", "12", None),
        ("number", "42", 42),
        ("number", "4,5", 4.5),
        ("number", "inf", None),
        ("number", "1e3", None),
        ("text", "  ", None),
        ("text", "hello", "hello"),
    ],
)
def test_answers_are_validated_by_what_the_step_expects(
    expect: str, text: str, value: object
) -> None:
    assert validate_answer(expect, text) == value


def test_a_choice_is_matched_case_insensitively_to_its_spelling() -> None:
    assert validate_answer("choice", "pro", ("Basic", "Pro")) == "Pro"
    assert validate_answer("choice", "gold", ("Basic", "Pro")) is None


def test_events_keep_contact_read_only() -> None:
    event: Event = parse_event(GOOD)
    with pytest.raises(TypeError):
        event.contact["name"] = "Eve"  # type: ignore[index]
