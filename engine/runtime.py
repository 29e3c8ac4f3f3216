"""Applying one event to one visitor: triggers, the silence clock, timers, flow runs.

Pure logic over a `VisitorState`: no Redis here. `Runtime.apply` returns the `Effects`
that `engine.store` commits together with the new state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol, cast

import orjson

from dsl.compiler import CompiledFlow
from dsl.errors import EvaluationError
from dsl.evaluate import evaluate
from dsl.model import Guard
from dsl.triggers import KINDS, Seen
from dsl.triggers.message_received import words
from engine.context import Context, drop_timer, set_timer
from engine.effects import MESSAGE_COMMANDS, Effects
from engine.events import Event, parse_event, timer_event
from engine.state import FunnelRecord, Run, Timer, TimerKind, VisitorState
from engine.steps import StepRunner


class FlowSet(Protocol):
    """The flows the engine runs: the newest version of each, and any older one by version."""

    def current(self) -> Sequence[CompiledFlow]:
        """The newest version of every loaded flow."""
        ...

    def get(self, flow_id: str, version: str) -> CompiledFlow | None:
        """A flow at a given version, or None when it is not known any more."""
        ...

    def removed(self, flow_id: str) -> bool:
        """Whether a reload took the flow out of the loaded set."""
        ...


# An event that arrives before one the chat layer stored earlier waits for it this long (the
# outbox relays after 5 s, a dead worker's shards are taken over after 10 s); then the
# held events are applied without it, and the trace says which never came. HELD_MAX bounds
# what one visitor's state holds.
GAP_WAIT = 120.0
HELD_MAX = 100
# A bot message handed to the chat layer and not reported sent within this long (its
# command was set aside, its conversation deleted) no longer holds the silence clock back.
SENDING_HORIZON = 900.0


class Runtime:
    """Applies events to visitor states using the loaded flows."""

    def __init__(self, flows: FlowSet, now: Callable[[], float] = time.time) -> None:
        self.flows = flows
        self.now = now

    def apply(self, state: VisitorState, event: Event) -> Effects | None:
        """Apply `event` to `state` in place; None when the event was applied before.

        The chat layer numbers each visitor's events (`seq`) in the order it stored them.
        One that arrives before an earlier one is held in the state until that one has been
        applied, or GAP_WAIT has passed, so flows see a visitor's facts in their order
        whatever the workers and redeliveries did to the streams' order.
        """
        if state.forgotten or event.id in state.seen or str(event.seq) in state.held:
            return None
        effects = Effects(event.id)
        if _early(state, event):
            state.held[str(event.seq)] = orjson.loads(event.to_json())
            effects.note("order", f"held: event {event.seq} came before {state.seq + 1}")
        else:
            self._apply(state, event, effects)
        self._release(state, effects)
        return effects

    def _apply(self, state: VisitorState, event: Event, effects: Effects) -> None:
        state.remember(event.id, event.at)
        if event.seq is not None:
            state.seq = max(state.seq, event.seq)
        _Apply(self.flows, state, event, effects).run()
        for command in effects.commands:
            if command.kind in MESSAGE_COMMANDS:
                state.sending[command.key] = event.at

    def _release(self, state: VisitorState, effects: Effects) -> None:
        """Apply the held events that are next in line; keep a gap timer while any wait."""
        while (held := state.held.pop(str(state.seq + 1), None)) is not None:
            event = parse_event(held)
            released = Effects(event.id)
            self._apply(state, event, released)
            effects.absorb(released)
        gap = state.timers.get("gap:")
        if state.held and gap is None:
            set_timer(state, effects, "gap", "", self.now() + GAP_WAIT)
        elif gap is not None and not state.held:
            drop_timer(state, effects, gap)


def _early(state: VisitorState, event: Event) -> bool:
    """Whether the chat layer stored an event of this visitor before `event` that has not
    been applied. A state that never saw a numbered event (written before numbering) takes
    the first it sees as it comes."""
    if event.seq is None or len(state.held) >= HELD_MAX:
        return False
    if state.seq == 0 and state.seen:
        return False
    return event.seq > state.seq + 1


class _Apply(Context):
    """One event's application: the handler for each event type, and the triggers."""

    def __init__(self, flows: FlowSet, state: VisitorState, event: Event, effects: Effects):
        if event.type == "timer.fired":  # a timer carries no facts: use the last event's
            conversation = state.facts.get("conversation", {})
            channel = state.facts.get("contact", {}).get("channel", "")
            event = timer_event(
                event.visitor_id,
                event.timer or "",
                event.due or event.at,
                event.at,
                conversation_id=conversation.get("id", ""),
                channel=channel,
            )
        super().__init__(state, event, effects)
        self.flows = flows
        self._seen_now: Seen | None = None
        self._removed: set[str] = set()  # flows found removed while applying this event

    @property
    def steps(self) -> StepRunner:
        """The step runner, made on use: one kept here would make a reference cycle, and
        the whole event (its effects, commands, trace) would then wait for Python's cyclic
        garbage collector instead of being freed once committed."""
        return StepRunner(self)

    def run(self) -> None:
        """Update the facts, end what removed flows left, then let the event's handler act."""
        self._update_facts()
        self._end_removed_flows()
        _HANDLERS[self.event.type](self)
        self._stop_runs_outside_their_states()

    def _end_removed_flows(self) -> None:
        """A flow a reload took out stops at the visitor's next event (one of its timers
        included): its run ends saying so, and its timers go without firing it. Nothing
        scans visitors at the reload."""
        state = self.state
        flows = {run.flow for run in state.runs.values() if run.active}
        flows.update(timer.flow for timer in state.timers.values() if timer.flow)
        for flow_id in sorted(flows):
            if self.flows.removed(flow_id):
                self._removed.add(flow_id)
                self._end_removed(flow_id)

    def _end_removed(self, flow_id: str) -> None:
        run = self.state.runs.get(flow_id)
        if run is not None and run.active:
            self.stop(run, "the flow was removed")
        for timer in [t for t in self.state.timers.values() if t.flow == flow_id]:
            self.cancel(timer)
            if timer.kind == "silence":
                self.effects.note(f"{flow_id}:trigger", "clock dropped: the flow was removed")

    # -- facts -----------------------------------------------------------------------

    def _update_facts(self) -> None:
        event, facts = self.event, self.state.facts
        if event.type == "timer.fired":
            return  # a timer knows nothing new; it acts on the facts of the last event
        contact = dict(facts.get("contact", {}))
        contact.update(event.contact)
        contact.update(id=event.visitor_id, channel=event.channel)
        ended = event.type == "conversation.ended"
        facts["contact"] = contact
        facts["conversation"] = {
            "id": event.conversation_id,
            "state": event.state,
            "status": "ended" if ended else "ongoing",
            "assignee": event.assignee,
            "tags": list(event.tags),
        }
        facts["visitor"] = {"id": event.visitor_id, "is_new": event.is_new}

    # -- handlers --------------------------------------------------------------------

    def conversation_started(self) -> None:
        self._trigger()

    def message_received(self) -> None:
        for timer in [t for t in self.state.timers.values() if t.kind == "silence"]:
            self.cancel(timer)
        self._wait_for_an_agent()
        for run, flow in self._running():
            self.steps.reply(flow, run, self.event.text or "")
        self._trigger()

    def message_sent(self) -> None:
        if self.event.command is not None:
            self.state.sending.pop(self.event.command, None)
        if self.event.sender == "agent":  # in Parley or outside it; the bot does not count
            self._agent_answered()
        for flow in self.flows.current():
            trigger = flow.flow.trigger
            if not KINDS[trigger.kind].silence_clock or flow.id == self.event.flow:
                continue  # a flow's own messages never start its own clock
            if self.event.off_platform and not trigger.off_platform:
                self.effects.note(f"{flow.id}:trigger", "clock not started: off-platform reply")
                continue
            self.schedule("silence", flow.id, self.event.at + trigger.after)

    def state_changed(self) -> None:
        """Assignment and hosting changes only move facts; runs outside their states stop."""

    def conversation_ended(self) -> None:
        for run in self._active_runs():
            self.stop(run, "the conversation ended")
        for timer in [t for t in self.state.timers.values() if t.kind != "gap"]:
            self.cancel(timer)
        self.state.waiting_since = None

    def visitor_forgotten(self) -> None:
        """The visitor was deleted for a privacy request: everything about them goes but a
        tombstone (their opaque id, `forgotten`), so no late event brings them back. The
        funnel's counters keep their counts: they name no one."""
        state = self.state
        for timer in list(state.timers.values()):
            self.cancel(timer)
        self.effects.forget += list(state.funnel)
        self.effects.forgotten = True
        state.facts.clear()
        state.runs.clear()
        state.funnel.clear()
        state.held.clear()
        state.sending.clear()
        state.seen.clear()
        state.waiting_since = None
        state.forgotten = True

    def button_clicked(self) -> None:
        self._wait_for_an_agent()  # a tap on "Talk to a person" waits for one too
        flow_id, number, step, index = _split_payload(self.event.payload or "")
        run = self.state.runs.get(flow_id)
        if run is None or not run.active or run.number != number or run.step != step:
            self.effects.note(f"{flow_id}:steps", "button ignored: the run moved on")
            return
        flow = self._flow_of(run)
        if flow is not None:
            self.steps.click(flow, run, index)

    def input_submitted(self) -> None:
        for run, flow in self._running():
            self.steps.answer(flow, run, self.event.text or "")

    def timer_fired(self) -> None:
        key, _, generation = (self.event.timer or "").rpartition("@")
        kind, _, flow_id = key.partition(":")
        timer = self.state.timers.get(key)
        if timer is None or str(timer.generation) != generation:
            if flow_id not in self._removed:  # else just dropped with its flow, said so
                self.effects.note("timers", f"stale timer {self.event.timer} ignored")
            number = int(generation) if generation.isdigit() and len(generation) < 16 else 0
            stale = Timer(key, self.event.due or 0.0, number, cast(TimerKind, kind), flow_id)
            self.effects.timers.append((False, stale))  # take it off its minute's schedule
            return
        self.cancel(timer)
        run = self.state.runs.get(timer.flow)
        if timer.kind == "silence":
            self._silence_fired(timer.flow)
        elif timer.kind == "notify":
            self._notify(timer)
        elif timer.kind == "gap":
            self._skip_the_gap()
        elif run is not None and run.active and (flow := self._flow_of(run)) is not None:
            self.steps.timer(flow, run, timer.kind)

    def _skip_the_gap(self) -> None:
        """Events the held ones wait for never came: go on from the first held one."""
        first = min(int(seq) for seq in self.state.held) if self.state.held else 0
        if first:
            gap = range(self.state.seq + 1, first)
            missing = f"{gap[0]}" if len(gap) == 1 else f"{gap[0]} to {gap[-1]}"
            self.effects.note("order", f"event {missing} never came; going on without it")
            self.state.seq = first - 1

    # -- waiting for an agent --------------------------------------------------------

    def _wait_for_an_agent(self) -> None:
        """A visitor's message (or click) starts a waiting streak, unless one is under way:
        one email per streak, however many messages come before an agent answers. Without
        `notify_after` the workspace sends no emails, and no streak is kept."""
        if self.state.waiting_since is not None or self.event.notify_after is None:
            return
        self.state.waiting_since = self.event.at
        self.schedule("notify", "", self.event.at + self.event.notify_after)

    def _agent_answered(self) -> None:
        self.state.waiting_since = None
        timer = self.state.timers.get("notify:")
        if timer is not None:
            self.cancel(timer)
            self.effects.note("notify", "an agent answered: no email")

    def _notify(self, timer: Timer) -> None:
        """The visitor has waited too long: the chat layer emails the agents."""
        conversation = self.state.facts.get("conversation", {}).get("id", "")
        args = {"due": timer.due, "waiting_since": self.state.waiting_since}
        self.effects.command("notify", self.state.visitor_id, conversation, "", args)
        self.effects.note("notify", "waited too long: the agents are emailed")

    # -- triggers --------------------------------------------------------------------

    def _trigger(self) -> None:
        """Start the flows whose trigger kind this event starts, as its checks allow."""
        for flow in self.flows.current():
            if self.event.type in KINDS[flow.flow.trigger.kind].starts_on:
                self._start_by_trigger(flow)

    def _start_by_trigger(self, flow: CompiledFlow) -> None:
        """Start the flow its trigger fired for, if the trigger's own checks let it."""
        trigger = flow.flow.trigger
        kind = KINDS[trigger.kind]
        if not kind.matches(trigger, self._seen()):
            return  # not for this event (a message without its keywords): nothing to note
        refusal = kind.refuses(trigger, self._seen())
        if refusal is not None:
            self.effects.note(f"{flow.id}:trigger", f"{trigger.kind} skipped: {refusal}")
            return
        self._start_if_allowed(flow)

    def _seen(self) -> Seen:
        # once per event: every flow's checks look at the same words
        if self._seen_now is None:
            is_new = bool(self.state.facts["visitor"]["is_new"])
            self._seen_now = Seen(words(self.event.text or ""), is_new)
        return self._seen_now

    def _silence_fired(self, flow_id: str) -> None:
        flow = next((f for f in self.flows.current() if f.id == flow_id), None)
        if flow is None:
            self.effects.note(f"{flow_id}:trigger", "visitor_timeout skipped: flow not loaded")
            return
        trigger = flow.flow.trigger
        if self._bot_message_on_its_way():
            # the visitor has not yet had the last thing the bot said: the clock starts
            # when that is sent; meanwhile it is looked at again a whole `after` later
            self.schedule("silence", flow_id, self.event.at + trigger.after)
            self.effects.note(
                f"{flow_id}:trigger", "visitor_timeout put off: a bot message is on its way"
            )
            return
        self._start_by_trigger(flow)

    def _bot_message_on_its_way(self) -> bool:
        sending = self.state.sending
        for key, at in list(sending.items()):
            if at < self.event.at - SENDING_HORIZON:
                del sending[key]
        return bool(sending)

    def _start_if_allowed(self, flow: CompiledFlow) -> None:
        path = flow.id
        trigger = flow.flow.trigger
        state = self.state.facts["conversation"]["state"]
        if state not in trigger.states:
            allowed = ", ".join(sorted(trigger.states))
            reason = f"{trigger.kind} skipped: conversation state {state} not in [{allowed}]"
            self.effects.note(f"{path}:trigger", reason)
            return
        for where, guard in (("trigger.when", trigger.when), ("when", flow.flow.when)):
            if guard is not None and not self._holds(guard, f"{path}:{where}"):
                return
        self._start(flow)

    def _holds(self, guard: Guard, path: str) -> bool:
        facts = self.facts({})
        try:
            value = evaluate(guard.node, facts, self.event.at) is True
        except EvaluationError as err:
            self.effects.note(path, f"guard failed: {err}", guard=guard.source)
            return False
        if not value:
            self.effects.note(path, "guard is false: not triggered", guard=guard.source)
        return value

    def _start(self, flow: CompiledFlow) -> None:
        run = self.state.runs.get(flow.id)
        if run is not None and run.active:
            if flow.flow.mode == "single":
                self.count(flow.id, flow.version, "retriggers")
                self.effects.note(f"{flow.id}:trigger", "already running: re-trigger counted")
                return
            self.stop(run, "restarted by a new trigger")
        number = run.number + 1 if run else 1
        new = Run(
            flow.id,
            flow.version,
            number,
            flow.flow.start,
            self.event.at,
            self.event.conversation_id,
            vars=dict(flow.flow.vars),
        )
        self.state.runs[flow.id] = new
        self._record_trigger(flow)
        self.effects.note(f"{flow.id}:trigger", f"triggered by {self.event.type}", run=number)
        self.steps.enter(flow, new, flow.flow.start)

    def _record_trigger(self, flow: CompiledFlow) -> None:
        event = self.event
        record = self.state.funnel.get(flow.id)
        if record is None:
            record = FunnelRecord(event.at, event.at, event.channel, event.conversation_id)
            self.state.funnel[flow.id] = record
        record.triggers += 1
        record.last = event.at
        record.conversation_id = event.conversation_id
        self.count(flow.id, flow.version, "triggers")
        self.count_once(flow, "triggered")
        self.funnel_row_changed(flow.id)

    # -- timers and runs -------------------------------------------------------------

    def _active_runs(self) -> list[Run]:
        return [run for run in self.state.runs.values() if run.active]

    def _running(self) -> list[tuple[Run, CompiledFlow]]:
        found = [(run, self._flow_of(run)) for run in self._active_runs()]
        return [(run, flow) for run, flow in found if flow is not None]

    def _flow_of(self, run: Run) -> CompiledFlow | None:
        """The run's flow version; a version no longer stored ends the run, saying why."""
        flow = self.flows.get(run.flow, run.version)
        if flow is None:
            self.stop(run, f"its flow version {run.version} is no longer available")
        return flow

    def _stop_runs_outside_their_states(self) -> None:
        state = self.state.facts.get("conversation", {}).get("state")
        for run in self._active_runs():
            flow = self.flows.get(run.flow, run.version)
            if flow is not None and state not in flow.flow.trigger.states:
                self.stop(run, f"conversation state became {state}")


def _split_payload(payload: str) -> tuple[str, int, str, int]:
    parts = payload.split("|")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[3].isdigit():
        return "", 0, "", -1
    return parts[0], int(parts[1]), parts[2], int(parts[3])


_HANDLERS: dict[str, Callable[[_Apply], None]] = {
    "conversation.started": _Apply.conversation_started,
    "message.received": _Apply.message_received,
    "message.sent": _Apply.message_sent,
    "conversation.assigned": _Apply.state_changed,
    "conversation.unassigned": _Apply.state_changed,
    "conversation.hosting_changed": _Apply.state_changed,
    "conversation.ended": _Apply.conversation_ended,
    "button.clicked": _Apply.button_clicked,
    "input.submitted": _Apply.input_submitted,
    "timer.fired": _Apply.timer_fired,
    "visitor.forgotten": _Apply.visitor_forgotten,
}
