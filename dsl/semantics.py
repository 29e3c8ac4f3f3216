"""Stage 4: check what a structurally valid flow means: its steps, its graph, its variables."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from dsl.durations import format_duration
from dsl.errors import Diagnostic, Severity
from dsl.expressions import Node, Template, children
from dsl.expressions import Path as FieldPath
from dsl.model import Flow, Guard, Step
from dsl.source import Document, Path
from dsl.triggers import KINDS

WRITABLE_CONTACT_FIELDS = frozenset({"remark_name", "email", "phone"})
DAY = 86_400
# (lowest, highest) seconds per kind of duration
DURATION_RANGES = {
    "trigger": (10, 30 * DAY),
    "timeout": (10, 30 * DAY),
    "wait": (1, 30 * DAY),
    "webhook": (1, 30),
}


def check_meaning(document: Document, flow: Flow) -> list[Diagnostic]:
    """Every problem of meaning in `flow`: shapes, references, graph, variables, ranges."""
    checker = _Checker(document, flow)
    for step in flow.steps.values():
        checker.step_shape(step, document.data["steps"][step.name])
    if checker.references():  # the graph checks would only echo a broken reference
        checker.graph()
    checker.writable_fields()
    checker.variables()
    checker.durations()
    return checker.diagnostics


class _Checker:
    def __init__(self, document: Document, flow: Flow) -> None:
        self.document = document
        self.flow = flow
        self.diagnostics: list[Diagnostic] = []

    def report(
        self,
        path: Path,
        message: str,
        rule: str,
        hint: str | None = None,
        severity: Severity = "error",
        *,
        key: bool = False,
        offset: int | None = None,
    ) -> None:
        """Record a finding at the value (or its key, or character `offset` in it) at `path`."""
        finding = self.document.finding(
            path, message, rule, hint=hint, severity=severity, key=key, offset=offset
        )
        self.diagnostics.append(finding)

    def step_shape(self, step: Step, raw: dict[str, Any]) -> None:
        """A step moves on in exactly one way, and its keys belong to that way."""
        path: Path = ("steps", step.name)
        ways = [
            name
            for name, present in (
                ("end", step.end),
                ("next", step.next is not None),
                ("branch", bool(step.branch)),
                ("input", bool({"buttons", "ask", "promo_card", "on"} & set(raw))),
            )
            if present
        ]
        if not ways:
            hint = "add next, end: true, buttons, ask, branch or on"
            self.report(path, f"step '{step.name}' has no way on", "step-shape", hint, key=True)
        elif len(ways) > 1:
            message = f"step '{step.name}' moves on in more than one way: {' and '.join(ways)}"
            self.report(path, message, "step-shape", "keep one of them", key=True)
        for message in _shape_conflicts(step, raw):
            self.report(path, message, "step-shape", key=True)
        self._branch_arms(path, raw.get("branch", []))

    def _branch_arms(self, path: Path, arms: list[dict[str, Any]]) -> None:
        for index, arm in enumerate(arms):
            last = index == len(arms) - 1
            arm_path = (*path, "branch", index)
            if last and set(arm) != {"else"}:
                self.report(arm_path, "a branch ends with an `else: step` arm", "step-shape")
            elif not last and set(arm) != {"when", "goto"}:
                message = "each branch arm but the last has `when` and `goto`; `else` comes last"
                self.report(arm_path, message, "step-shape")

    def references(self) -> bool:
        """`start` and every goto name a step that exists; True when they all do."""
        found = [self._reference(("start",), self.flow.start)]
        for step in self.flow.steps.values():
            found += [self._reference(exit_.path, exit_.target) for exit_ in step.exits]
        return all(found)

    def _reference(self, path: Path, target: str) -> bool:
        if target in self.flow.steps:
            return True
        if not target:  # a branch arm without goto or else: its step-shape finding says so
            return False
        close = difflib.get_close_matches(target, list(self.flow.steps), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"steps: {', '.join(self.flow.steps)}"
        self.report(path, f"no step named '{target}'", "unknown-step", hint)
        return False

    def graph(self) -> None:
        """Every step is reachable, can reach an end, and no loop spins without waiting."""
        reachable = _reachable(self.flow)
        for name in self.flow.steps:
            if name not in reachable:
                message = f"step '{name}' is never reached from '{self.flow.start}'"
                self.report(("steps", name), message, "unreachable", severity="warning", key=True)
        finishing = _can_finish(self.flow)
        for name in sorted(reachable - finishing, key=list(self.flow.steps).index):
            message = f"from step '{name}' no path leads to a step with `end: true`"
            self.report(("steps", name), message, "no-end", key=True)
        for name in _spinning(self.flow):
            message = f"step '{name}' is in a loop that never waits for the visitor or the clock"
            hint = "add a wait, buttons, an ask or an `on: reply` somewhere in the loop"
            self.report(("steps", name), message, "spin-loop", hint, key=True)

    def writable_fields(self) -> None:
        """`save` and `set` write only fields agents may edit, or flow variables."""
        for step in self.flow.steps.values():
            if step.save:
                self._writable(("steps", step.name, "save"), step.save)
            for index, action in enumerate(step.actions):
                if action.kind == "set":
                    path = ("steps", step.name, "do", index, "set", "field")
                    self._writable(path, action.args["field"])

    def _writable(self, path: Path, target: tuple[str, ...]) -> None:
        root, *rest = target
        if root == "vars" and len(rest) == 1:
            return
        if root == "contact" and len(rest) == 1 and rest[0] in WRITABLE_CONTACT_FIELDS:
            return
        allowed = ", ".join(f"contact.{f}" for f in sorted(WRITABLE_CONTACT_FIELDS))
        hint = f"flows may write {allowed} and vars.<name>"
        self.report(
            path, f"'{'.'.join(target)}' cannot be written by a flow", "readonly-field", hint
        )

    def variables(self) -> None:
        """Warn about `vars.x` read somewhere but never given a value, once per value."""
        assigned = _assigned_variables(self.flow)
        hint = "give it a starting value under `vars:` or set it with `set` or `save`"
        reported: set[tuple[Path, str]] = set()
        for path, node in _expressions(self.flow):  # a template's parts come in text order
            for name, read in _variable_reads(node).items():
                if name not in assigned and (path, name) not in reported:
                    reported.add((path, name))
                    message = f"vars.{name} is read but never set"
                    self.report(path, message, "unset-var", hint, "warning", offset=read.offset)

    def durations(self) -> None:
        """Durations fall in their sensible ranges."""
        flow = self.flow
        trigger = flow.trigger
        for option in KINDS[trigger.kind].durations:
            self._range(("trigger", trigger.kind, option), getattr(trigger, option), "trigger")
        for step in flow.steps.values():
            path: Path = ("steps", step.name)
            if step.wait is not None:
                self._range((*path, "wait"), step.wait, "wait")
            if step.timeout is not None:
                self._range((*path, "on", "timeout", "after"), step.timeout[0], "timeout")
            for index, action in enumerate(step.actions):
                webhook_path = (*path, "do", index, "webhook", "timeout")
                if action.kind == "webhook" and self.document.has(webhook_path):
                    self._range(webhook_path, action.args["timeout"], "webhook")

    def _range(self, path: Path, seconds: int, kind: str) -> None:
        low, high = DURATION_RANGES[kind]
        if not low <= seconds <= high:
            bounds = f"{format_duration(low)} and {format_duration(high)}"
            message = f"{format_duration(seconds)} is out of range: use between {bounds}"
            self.report(path, message, "duration-range")


def _shape_conflicts(step: Step, raw: dict[str, Any]) -> Iterator[str]:
    # the raw keys, not the step's values: a question that failed to parse is still a question
    collects_input = "ask" in raw or "promo_card" in raw
    if step.end and ({"buttons", "wait"} & set(raw) or collects_input):
        yield "an end step cannot wait for input or time"
    if "wait" in raw and step.next is None:
        yield "`wait` needs `next`: the step to go to when the time is up"
    if len({"ask", "buttons", "promo_card"} & set(raw)) > 1:
        yield "a step asks one thing: use ask, buttons or promo_card, not several"
    if collects_input and not {"valid", "invalid"} <= set(step.on):
        yield "ask and promo_card steps need `on: {valid: step, invalid: step}`"
    if collects_input and "reply" in step.on:
        yield "`on: reply` is never taken on ask and promo_card steps: the reply is the answer"
    if not collects_input and {"valid", "invalid"} & set(step.on):
        yield "`on: valid/invalid` belongs to ask and promo_card steps"
    if "retries" in raw and not collects_input:
        yield "`retries` belongs to ask and promo_card steps"
    if (step.expect == "choice") != bool(step.choices):
        yield "`expect: choice` goes with a `choices:` list, and `choices` with `expect: choice`"
    if "save" in raw and "ask" not in raw:
        yield "`save` belongs to ask steps (a promo card saves to contact.email)"


def _assigned_variables(flow: Flow) -> set[str]:
    """Variables given a value anywhere: under `vars:`, by `save` or by a `set` action."""
    assigned = set(flow.vars)
    for step in flow.steps.values():
        if step.save and step.save[0] == "vars":
            assigned.add(step.save[1])
        assigned.update(
            a.args["field"][1]
            for a in step.actions
            if a.kind == "set" and a.args["field"][0] == "vars"
        )
    return assigned


def _reachable(flow: Flow) -> set[str]:
    seen, todo = set(), [flow.start]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.steps:
            continue
        seen.add(name)
        todo.extend(e.target for e in flow.steps[name].exits)
    return seen


def _can_finish(flow: Flow) -> set[str]:
    """Steps from which some path reaches an end step (a search backwards from the ends)."""
    leads_here: dict[str, list[str]] = {name: [] for name in flow.steps}
    for name, step in flow.steps.items():
        for exit_ in step.exits:
            leads_here.setdefault(exit_.target, []).append(name)
    todo = [name for name, step in flow.steps.items() if step.end]
    finishing = set(todo)
    while todo:
        for source in leads_here[todo.pop()]:
            if source not in finishing:
                finishing.add(source)
                todo.append(source)
    return finishing


def _spinning(flow: Flow) -> list[str]:
    """Steps on a cycle made only of instant exits (found by depth-first colouring)."""
    instant = {
        name: [e.target for e in step.exits if e.instant and e.target in flow.steps]
        for name, step in flow.steps.items()
    }
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    spinning: list[str] = []
    for root, children_of_root in instant.items():
        stack = [(root, iter(children_of_root))]
        state.setdefault(root, 1)
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[name] = 2
                stack.pop()
            elif state.get(child) == 1 and child not in spinning:
                spinning.append(child)
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(instant[child])))
    return spinning


def _expressions(flow: Flow) -> Iterator[tuple[Path, Node]]:
    guards: list[tuple[Path, Guard | None]] = [
        (("when",), flow.when),
        (("trigger", flow.trigger.kind, "when"), flow.trigger.when),
    ]
    for step in flow.steps.values():
        path: Path = ("steps", step.name)
        guards += [((*path, "branch", i, "when"), arm.when) for i, arm in enumerate(step.branch)]
        yield from _template_nodes((*path, "say"), step.say)
        yield from _template_nodes((*path, "ask"), step.ask)
        if step.promo_card:
            yield from _template_nodes((*path, "promo_card", "text"), step.promo_card.text)
        for index, action in enumerate(step.actions):
            for key, value in action.args.items():
                yield from _template_nodes((*path, "do", index, action.kind, key), value)
    yield from ((path, guard.node) for path, guard in guards if guard)


def _template_nodes(path: Path, value: object) -> Iterator[tuple[Path, Node]]:
    """The expressions of the templates in `value`, which may be a webhook body's data."""
    if isinstance(value, Template):
        yield from ((path, node) for node in value.expressions())
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _template_nodes((*path, key), item)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _template_nodes((*path, index), item)


def _variable_reads(node: Node) -> dict[str, FieldPath]:
    """Each flow variable the expression reads, with its first read in the text."""
    found: dict[str, FieldPath] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FieldPath) and len(current.parts) > 1 and current.parts[0] == "vars":
            known = found.get(current.parts[1])
            if known is None or current.offset < known.offset:
                found[current.parts[1]] = current
        stack.extend(children(current))
    return found
