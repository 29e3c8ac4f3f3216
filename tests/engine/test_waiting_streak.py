"""The waiting streak behind new message notifications: one notify timer per streak, ended
by an agent's reply (in Parley or off-platform) or the conversation's end, not by the bot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsl.compiler import CompiledFlow
from engine.effects import Effects
from engine.events import Event, EventType
from engine.runtime import Runtime
from engine.state import VisitorState

T0 = 1_767_225_600.0
TEN_MINUTES = 600.0


class NoFlows:
    def current(self) -> Sequence[CompiledFlow]:
        return ()

    def get(self, flow_id: str, version: str) -> CompiledFlow | None:
        return None

    def removed(self, flow_id: str) -> bool:
        return False


class Visitor:
    """One visitor's state, with events applied by the runtime in order."""

    def __init__(self) -> None:
        self.state = VisitorState("v1")
        self.runtime = Runtime(NoFlows())
        self.count = 0

    def apply(self, kind: EventType, at: float, **fields: Any) -> Effects:
        self.count += 1
        event = Event(f"e{self.count}", kind, "v1", "c1", T0 + at, **fields)
        effects = self.runtime.apply(self.state, event)
        assert effects is not None
        return effects

    def writes(self, at: float, notify_after: float | None = TEN_MINUTES) -> Effects:
        return self.apply("message.received", at, text="hi", notify_after=notify_after)

    def fire_notify(self, at: float) -> Effects:
        timer = self.state.timers["notify:"]
        return self.apply("timer.fired", at, timer=f"{timer.key}@{timer.generation}")

    @property
    def notify_due(self) -> float | None:
        timer = self.state.timers.get("notify:")
        return None if timer is None else timer.due - T0


def test_a_visitor_message_starts_a_notify_timer_that_later_messages_leave_alone() -> None:
    visitor = Visitor()
    visitor.writes(0)
    visitor.writes(120)
    assert visitor.notify_due == TEN_MINUTES
    fired = visitor.fire_notify(TEN_MINUTES)
    (command,) = fired.commands
    assert (command.kind, command.args) == (
        "notify",
        {"due": T0 + TEN_MINUTES, "waiting_since": T0},
    )
    visitor.writes(TEN_MINUTES + 60)  # the same streak: no second email
    assert visitor.notify_due is None


def test_an_agent_reply_ends_the_streak_and_cancels_the_timer() -> None:
    for off_platform in (False, True):
        visitor = Visitor()
        visitor.writes(0)
        replied = visitor.apply("message.sent", 60, sender="agent", off_platform=off_platform)
        assert visitor.notify_due is None
        assert [added for added, timer in replied.timers if timer.kind == "notify"] == [False]
        visitor.writes(120)  # a new streak
        assert visitor.notify_due == 120 + TEN_MINUTES


def test_the_bot_does_not_end_the_streak() -> None:
    visitor = Visitor()
    visitor.writes(0)
    visitor.apply("message.sent", 5, sender="bot", flow="greeter", text="Hello!")
    assert visitor.notify_due == TEN_MINUTES


def test_the_end_of_the_conversation_ends_the_streak() -> None:
    visitor = Visitor()
    visitor.writes(0)
    visitor.apply("conversation.ended", 60)
    assert visitor.notify_due is None
    assert visitor.state.waiting_since is None


def test_a_click_waits_for_an_agent_too() -> None:
    visitor = Visitor()
    visitor.apply("button.clicked", 0, payload="f|1|menu|0", notify_after=TEN_MINUTES)
    assert visitor.notify_due == TEN_MINUTES


def test_without_notify_after_no_streak_is_kept_so_switching_on_takes_effect_next_message() -> None:
    visitor = Visitor()
    visitor.writes(0, notify_after=None)
    assert (visitor.notify_due, visitor.state.waiting_since) == (None, None)
    visitor.writes(300)  # the workspace switched emails on meanwhile
    assert visitor.notify_due == 300 + TEN_MINUTES
