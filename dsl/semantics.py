"""Stage 4: check what a structurally valid flow means: its steps, its graph, its variables."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from dsl.durations import format_duration
from dsl.errors import Diagnostic, Severity
from dsl.expressions import Node, Template, fields_read
from dsl.model import Flow, Guard, Step
from dsl.source import Document, Path

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
    ) -> None:
        """Record a finding at the value (or, with `key`, the key) at `path`."""
        where = self.document.key_location if key else self.document.location
        self.diagnostics.append(Diagnostic(where(path), severity, message, rule, hint))

    def step_shape(self, step: Step, raw: dict[str, Any]) -> None:
        """A step moves on in exactly one way, and its keys belong to that way."""
        path: Path = ("steps", step.name)
        ways = [
            name
            for name, present in (
                ("end", step.end),
                ("next", step.next is not None),
                ("branch", bool(step.branch)),
                ("input", bool(step.buttons or step.collects_input or step.on or step.timeout)),
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
        """Warn about `vars.x` read somewhere but never given a value."""
        assigned = set(self.flow.vars)
        for step in self.flow.steps.values():
            if step.save and step.save[0] == "vars":
                assigned.add(step.save[1])
            assigned.update(
                a.args["field"][1]
                for a in step.actions
                if a.kind == "set" and a.args["field"][0] == "vars"
            )
        for path, node in _expressions(self.flow):
            for read in sorted(fields_read(node)):
                if read[0] == "vars" and len(read) > 1 and read[1] not in assigned:
                    message = f"vars.{read[1]} is read but never set"
                    hint = "give it a starting value under `vars:` or set it with `set` or `save`"
                    self.report(path, message, "unset-var", hint, severity="warning")

    def durations(self) -> None:
        """Durations fall in their sensible ranges."""
        flow = self.flow
        if flow.trigger.kind == "visitor_timeout":
            self._range(("trigger", "visitor_timeout", "after"), flow.trigger.after, "trigger")
        for step in flow.steps.values():
            path: Path = ("steps", step.name)
            if step.wait:
                self._range((*path, "wait"), step.wait, "wait")
            if step.timeout:
                self._range((*path, "on", "timeout", "after"), step.timeout[0], "timeout")
            for index, action in enumerate(step.actions):
                if action.kind == "webhook":
                    webhook_path = (*path, "do", index, "webhook", "timeout")
                    self._range(webhook_path, action.args["timeout"], "webhook")

    def _range(self, path: Path, seconds: int, kind: str) -> None:
        low, high = DURATION_RANGES[kind]
        if seconds and not low <= seconds <= high:
            bounds = f"{format_duration(low)} and {format_duration(high)}"
            message = f"{format_duration(seconds)} is out of range: use between {bounds}"
            self.report(path, message, "duration-range")


def _shape_conflicts(step: Step, raw: dict[str, Any]) -> Iterator[str]:
    if step.end and (step.buttons or step.collects_input or step.wait):
        yield "an end step cannot wait for input or time"
    if step.wait is not None and step.next is None:
        yield "`wait` needs `next`: the step to go to when the time is up"
    if step.ask is not None and (step.buttons or step.promo_card):
        yield "a step asks one thing: use ask, buttons or promo_card, not several"
    if step.collects_input and not {"valid", "invalid"} <= set(step.on):
        yield "ask and promo_card steps need `on: {valid: step, invalid: step}`"
    if not step.collects_input and {"valid", "invalid"} & set(step.on):
        yield "`on: valid/invalid` belongs to ask and promo_card steps"
    if "retries" in raw and not step.collects_input:
        yield "`retries` belongs to ask and promo_card steps"
    if (step.expect == "choice") != bool(step.choices):
        yield "`expect: choice` goes with a `choices:` list, and `choices` with `expect: choice`"
    if "save" in raw and step.ask is None:
        yield "`save` belongs to ask steps (a promo card saves to contact.email)"


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
    if isinstance(value, Template):
        yield from ((path, node) for node in value.expressions())
