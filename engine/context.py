"""The primitives every part of an event's application shares: facts, timers, counters.

`Context` holds one visitor's state, the event being applied and the effects it produces.
Triggers (`engine.runtime`) and step execution (`engine.steps`) both work through it.
"""

from __future__ import annotations

from typing import Any

from dsl.compiler import CompiledFlow
from engine.effects import CounterMove, Effects, day_of
from engine.events import Event
from engine.state import Run, Timer, TimerKind, VisitorState


class Context:
    """One event's application to one visitor's state."""

    def __init__(self, state: VisitorState, event: Event, effects: Effects) -> None:
        self.state = state
        self.event = event
        self.effects = effects
        self.day = day_of(event.at)  # the day counters of this event go on

    def facts(self, variables: dict[str, Any]) -> dict[str, Any]:
        """What expressions may read now: contact, conversation, visitor, message, vars."""
        facts = self.state.facts
        return {
            "contact": facts.get("contact", {}),
            "conversation": facts.get("conversation", {}),
            "visitor": facts.get("visitor", {}),
            "message": {"text": self.event.text if self.event.sender == "visitor" else None},
            "vars": variables,
        }

    def schedule(self, kind: TimerKind, flow_id: str, due: float) -> None:
        """Set the flow's timer of this kind, replacing one that was pending."""
        set_timer(self.state, self.effects, kind, flow_id, due)

    def cancel(self, timer: Timer) -> None:
        """Drop a pending timer."""
        drop_timer(self.state, self.effects, timer)

    def cancel_step_timers(self, flow_id: str) -> None:
        """Drop the flow's step timeout and wait; its silence clock is the trigger's own."""
        for timer in [t for t in self.state.timers.values() if t.flow == flow_id]:
            if timer.kind != "silence":
                self.cancel(timer)

    def count(self, flow_id: str, version: str, name: str) -> None:
        """Move a plain counter (triggers, re-triggers) on today's figures."""
        day = self.day
        for scope in ("all", version):
            self.effects.counters.append(CounterMove(flow_id, day, f"{scope}:{name}"))

    def count_once(self, flow: CompiledFlow, name: str) -> None:
        """Move a unique-visitor counter the first time this visitor earns it.

        It is counted on the visitor's cohort day (the day of their first trigger of the
        flow), so figures summed over any range of days still count each visitor once.
        """
        record = self.state.funnel[flow.id]
        for scope in ("all", flow.version):
            key = f"{scope}:{name}"
            if key not in record.counted:
                record.counted.append(key)
                cohort = record.cohorts.setdefault(scope, self.day)
                self.effects.counters.append(CounterMove(flow.id, cohort, key))

    def funnel_row_changed(self, flow_id: str) -> None:
        """Have the commit rewrite the visitor's drill-down row of this flow.

        Only triggers, engaging and completing change that row; entering a step does not,
        so most events write no row (four Redis writes each, on every flow they touched).
        """
        self.effects.funnel[flow_id] = self.state.funnel[flow_id]

    def stop(self, run: Run, outcome: str) -> None:
        """End a run (completed, or why it stopped) and drop its step timers."""
        run.active = False
        run.outcome = outcome
        self.cancel_step_timers(run.flow)
        self.effects.note(f"{run.flow}:steps.{run.step}", f"run ended: {outcome}")


def set_timer(
    state: VisitorState, effects: Effects, kind: TimerKind, flow_id: str, due: float
) -> None:
    """Set the visitor's timer `kind:flow_id`, replacing one that was pending."""
    key = f"{kind}:{flow_id}"
    if key in state.timers:
        drop_timer(state, effects, state.timers[key])
    state.generation += 1
    timer = Timer(key, due, state.generation, kind, flow_id)
    state.timers[key] = timer
    effects.timers.append((True, timer))


def drop_timer(state: VisitorState, effects: Effects, timer: Timer) -> None:
    """Drop one of the visitor's pending timers."""
    del state.timers[timer.key]
    effects.timers.append((False, timer))
