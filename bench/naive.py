"""Parley's batched engine against the naive way: a pickled `transitions` Machine per visitor.

The naive bot keeps, per visitor, one Redis string holding a pickle of the visitor's facts
and one `transitions.Machine` per running flow (model: the run; states: the flow's steps;
transitions: the compiled flow's table, `CompiledFlow.table`), the way the `transitions`
documentation suggests persisting machines. For every event it GETs and unpickles the
visitor, updates the facts, and acts: a conversation start or a message starts the flows
whose trigger (kind, keywords, guards) fits, building their Machine; a message answers the
waiting step (validated as Parley does) or takes its `reply` exit; a click triggers the
button's event; an agent's message records when each silence clock would end. After each
move the run goes on through instant steps (branch guards, `next`) until a step waits,
rendering every `say`. Then it pickles the visitor and SETs it, with the rendered messages
pushed to an outbox list in the same pipeline: two round trips per event. It keeps no
counters, funnel, trace or timer schedule, so it does less than Parley does.

A second naive variant (`rebuild`) pickles only the visitor's facts and each run's step and
builds the Machines from the flow for every event instead of unpickling them.

Both handle the same events as Parley's `Engine.handle_batch` (the phases of
`_common.Workload`: starts, messages, clicks, answers, agent messages; no timers) on the
same Redis, for `--visitors` visitors (default 300; `bench/targets.py` runs 25 with the
other targets). The ratio is Parley's events/s over the faster naive variant's. Target: at
least 100x. Its floor: the pipelined `_common.state_write_floor` (one state write per
event, no engine work) over the faster naive's events/s, the ratio of an engine
that took no time.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from _common import (
    FLOOR,
    PLACEMENTS,
    Target,
    Workload,
    drop_prefix,
    generated_flows,
    host_load,
    make_engine,
    place,
    real_redis,
    run_prefix,
    state_write_floor,
)
from transitions import Machine, MachineError

from dsl.compiler import CompiledFlow
from dsl.errors import EvaluationError
from dsl.evaluate import evaluate, render
from dsl.model import Guard
from engine.core import Engine
from engine.events import Event
from engine.ports import ManualClock
from engine.steps import validate_answer


class Run:
    """A flow run, the model of its Machine; `state` is the current step."""

    state: str

    def __init__(self, flow_id: str) -> None:
        self.flow_id = flow_id
        self.vars: dict[str, Any] = {}


class Bot:
    """One visitor as the naive bot keeps it: facts, and a Machine per running flow."""

    def __init__(self, visitor_id: str) -> None:
        self.visitor_id = visitor_id
        self.facts: dict[str, Any] = {}
        self.machines: dict[str, Any] = {}  # flow id -> Machine
        self.silence_ends: dict[str, float] = {}


class Naive:
    """The naive bot: unpickle, act, pickle, per event; `rebuild` builds Machines anew."""

    def __init__(self, client: redis.Redis, flows: Sequence[CompiledFlow], rebuild: bool) -> None:
        self.client = client
        self.flows = {flow.id: flow for flow in flows}
        self.rebuild = rebuild
        self.prefix = run_prefix("naive-rebuild" if rebuild else "naive-pickled")
        self.clicks_taken = 0

    # -- persistence -----------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """Load the visitor, apply the event, save the visitor and its outgoing messages."""
        key = f"{self.prefix}:{event.visitor_id}"
        raw = self.client.get(key)
        bot = self._load(raw) if isinstance(raw, bytes) else Bot(event.visitor_id)
        outbox: list[str] = []
        self._apply(bot, event, outbox)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(key, self._dump(bot))
        if outbox:
            pipe.rpush(f"{self.prefix}:outbox", *outbox)
        pipe.execute()

    def _load(self, raw: bytes) -> Bot:
        if not self.rebuild:
            loaded: Bot = pickle.loads(raw)
            return loaded
        facts, runs, silence_ends, visitor_id = pickle.loads(raw)
        bot = Bot(visitor_id)
        bot.facts, bot.silence_ends = facts, silence_ends
        for flow_id, (step, variables) in runs.items():
            machine = self._machine(self.flows[flow_id], step)
            machine.model.vars = variables
            bot.machines[flow_id] = machine
        return bot

    def _dump(self, bot: Bot) -> bytes:
        if not self.rebuild:
            return pickle.dumps(bot, pickle.HIGHEST_PROTOCOL)
        runs = {fid: (m.model.state, m.model.vars) for fid, m in bot.machines.items()}
        return pickle.dumps(
            (bot.facts, runs, bot.silence_ends, bot.visitor_id), pickle.HIGHEST_PROTOCOL
        )

    @staticmethod
    def _machine(flow: CompiledFlow, step: str) -> Any:
        transitions = [
            {"trigger": name, "source": source, "dest": dest}
            for source, exits in flow.table.items()
            for name, dest in exits.items()
        ]
        return Machine(
            model=Run(flow.id),
            states=list(flow.flow.steps),
            transitions=transitions,
            initial=step,
            auto_transitions=False,
        )

    # -- what each event does ------------------------------------------------------------------

    def _apply(self, bot: Bot, event: Event, outbox: list[str]) -> None:
        contact = dict(bot.facts.get("contact", {}))
        contact.update(event.contact, id=event.visitor_id, channel=event.channel)
        bot.facts.update(
            contact=contact,
            conversation={"id": event.conversation_id, "state": event.state, "tags": []},
            visitor={"id": event.visitor_id, "is_new": event.is_new},
        )
        text = event.text if event.sender == "visitor" else None
        facts = {**bot.facts, "message": {"text": text}}
        if event.type == "conversation.started":
            self._trigger(bot, "conversation_started", facts, event, outbox)
        elif event.type == "message.received":
            for machine in list(bot.machines.values()):
                self._reply(bot, machine, event.text or "", facts, event.at, outbox)
            self._trigger(bot, "message_received", facts, event, outbox)
        elif event.type == "button.clicked":
            flow_id, _, step, index = (event.payload or "").split("|")
            machine = bot.machines.get(flow_id)
            if machine is not None and machine.model.state == step:
                self.clicks_taken += 1
                self._move(bot, machine, f"button_{index}", facts, event.at, outbox)
        elif event.type == "message.sent":
            for flow in self.flows.values():
                trigger = flow.flow.trigger
                if trigger.kind == "visitor_timeout" and trigger.after is not None:
                    bot.silence_ends[flow.id] = event.at + trigger.after

    def _trigger(
        self, bot: Bot, kind: str, facts: dict[str, Any], event: Event, outbox: list[str]
    ) -> None:
        words = f" {' '.join(_words(event.text or ''))} "
        for flow in self.flows.values():
            trigger = flow.flow.trigger
            if trigger.kind != kind or flow.id in bot.machines:
                continue
            if trigger.keywords and not any(
                f" {' '.join(_words(k))} " in words for k in trigger.keywords
            ):
                continue
            variables = dict(flow.flow.vars)
            guards = (trigger.when, flow.flow.when)
            if all(_holds(g, {**facts, "vars": variables}, event.at) for g in guards):
                machine = self._machine(flow, flow.flow.start)
                machine.model.vars = variables
                bot.machines[flow.id] = machine
                self._enter(bot, machine, facts, event.at, outbox)

    def _reply(
        self,
        bot: Bot,
        machine: Any,
        text: str,
        facts: dict[str, Any],
        now: float,
        outbox: list[str],
    ) -> None:
        run: Run = machine.model
        step = self.flows[run.flow_id].step(run.state)
        if step.collects_input:
            value = validate_answer(step.expect or "email", text, step.choices)
            if value is not None and step.save and step.save[0] == "vars":
                run.vars[step.save[1]] = value
            elif value is not None:
                bot.facts["contact"][(step.save or ("contact", "email"))[1]] = value
            self._move(bot, machine, "invalid" if value is None else "valid", facts, now, outbox)
        elif "reply" in self.flows[run.flow_id].table.get(run.state, {}):
            self._move(bot, machine, "reply", facts, now, outbox)

    def _move(
        self,
        bot: Bot,
        machine: Any,
        name: str,
        facts: dict[str, Any],
        now: float,
        outbox: list[str],
    ) -> None:
        try:
            machine.model.trigger(name)
        except (MachineError, AttributeError):
            return  # no such exit here
        self._enter(bot, machine, facts, now, outbox)

    def _enter(
        self, bot: Bot, machine: Any, facts: dict[str, Any], now: float, outbox: list[str]
    ) -> None:
        """Say what the step says, then go on through instant steps until one waits."""
        run: Run = machine.model
        flow = self.flows[run.flow_id]
        for _ in range(len(flow.flow.steps)):
            step = flow.step(run.state)
            scope = {**facts, "vars": run.vars}
            if step.say is not None:
                try:
                    said = render(step.say, scope, now)
                except EvaluationError:
                    said = ""
                outbox.append(json.dumps({"visitor": bot.visitor_id, "say": said}))
            if step.end:
                del bot.machines[run.flow_id]
                return
            arm = next(
                (i for i, b in enumerate(step.branch) if _holds(b.when, scope, now)),
                None,
            )
            if arm is not None:
                machine.model.trigger(f"branch_{arm}")
            elif step.next is not None and step.wait is None:
                machine.model.trigger("next")
            else:
                return


def _holds(guard: Guard | None, facts: dict[str, Any], now: float) -> bool:
    if guard is None:
        return True
    try:
        return evaluate(guard.node, facts, now) is True
    except EvaluationError:
        return False


def _words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() else " " for c in text).split()


@dataclass(frozen=True, slots=True)
class Race:
    """Parley and both naive variants on the same events: events/s of each, and more."""

    events: int
    mix: str
    rates: dict[str, float]  # parley, pickled, rebuild
    pickle_sizes: tuple[int, int]  # one visitor's, pickled and rebuild
    clicks_taken: int  # by the naive bot, on a button of the run's step

    @property
    def naive(self) -> float:
        """The faster naive variant's events/s."""
        return max(self.rates["pickled"], self.rates["rebuild"])


def race(client: redis.Redis, workload: Workload, batch: int) -> Race:
    """Every phase through Parley's `Engine.handle_batch`, then through each naive bot."""
    prefix = run_prefix("parley")
    engine = make_engine(client, prefix, generated_flows(), ManualClock())
    naives = [Naive(client, engine.flows.current(), rebuild) for rebuild in (False, True)]
    spent = {"parley": 0.0, "pickled": 0.0, "rebuild": 0.0}
    count, mix = 0, []
    try:
        for label, build in workload.phases(engine):
            events = build()  # clicks read Parley's states after the phase before
            count += len(events)
            mix.append(f"{label} {len(events):,}")
            spent["parley"] += _timed_batches(engine, events, batch)
            for naive, name in zip(naives, ("pickled", "rebuild"), strict=True):
                began = time.perf_counter()
                for item in events:
                    naive.handle(item)
                spent[name] += time.perf_counter() - began
        pickled, rebuilt = (
            client.strlen(f"{n.prefix}:{workload.visitors[0].id}") or 0 for n in naives
        )
    finally:
        for name in (prefix, *(n.prefix for n in naives)):
            drop_prefix(client, name)
    rates = {name: count / seconds for name, seconds in spent.items()}
    return Race(count, ", ".join(mix), rates, (pickled, rebuilt), naives[0].clicks_taken)


def naive_target(result: Race, floor: float) -> Target:
    """Parley against the faster naive bot; its floor is `floor` events/s against it."""
    ratio = result.rates["parley"] / result.naive
    return Target("batched >= 100x naive transitions", ratio, 100, floor / result.naive, "x")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=300, help="default 300")
    parser.add_argument("--batch", type=int, default=500, help="events per handle_batch call")
    parser.add_argument("--placement", choices=PLACEMENTS, default="split")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with real_redis() as server:
        print(f"server: {server.name}; {place(server, args.placement)}; {host_load()}")
        print(f"scale: {args.visitors:,} visitors, 10 flows x 50 steps, same events for all")
        result = race(server.client, Workload(args.visitors, args.seed), args.batch)
        floor = state_write_floor(server.client)
    print(f"at the end: {host_load()}")
    rates, sizes = result.rates, result.pickle_sizes
    print(f"events: {result.events:,} ({result.mix})")
    print(f"parley Engine.handle_batch ({args.batch} a call): {rates['parley']:,.0f} events/s")
    print(
        f"naive, pickled Machines (GET, pickle.loads, trigger, pickle.dumps, SET): "
        f"{rates['pickled']:,.0f} events/s; one visitor's pickle {sizes[0]:,} bytes"
    )
    print(
        f"naive, Machines rebuilt per event from the flow: {rates['rebuild']:,.0f} events/s; "
        f"one visitor's pickle {sizes[1]:,} bytes"
    )
    print(
        f"naive clicks on a button of the run's step: {result.clicks_taken:,} "
        "(Parley's states chose the clicks)"
    )
    print(f"floor, pipelined, {FLOOR}: {floor:,.0f} events/s")
    print(naive_target(result, floor).line())


def _timed_batches(engine: Engine, events: Sequence[Event], size: int) -> float:
    began = time.perf_counter()
    for start in range(0, len(events), size):
        engine.handle_batch(events[start : start + size])
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
