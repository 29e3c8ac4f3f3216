"""Running a flow's steps for one visitor: what each step says and does, and where it goes.

A run moves through instant steps (branches, `next` without `wait`) within one event and
stops at a step that waits: for a button, an answer, a reply, or a timer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dsl.compiler import CompiledFlow
from dsl.errors import EvaluationError
from dsl.evaluate import evaluate, render, render_data
from dsl.expressions import Template
from dsl.model import Action, Step
from engine.context import Context
from engine.state import Run, TimerKind

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?\d{6,15}$")
_NUMBER = re.compile(r"^[+-]?\d{1,15}(?:[.,]\d{1,15})?$")


class StepRunner:
    """Moves runs through steps on behalf of one event's application."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- what the visitor or the clock did ---------------------------------------------

    def reply(self, flow: CompiledFlow, run: Run, text: str) -> None:
        """The visitor wrote while the run waits: an answer, or the step's `reply` exit."""
        if flow.step(run.step).collects_input:
            self.answer(flow, run, text)
        else:
            self._move(flow, run, "reply")

    def click(self, flow: CompiledFlow, run: Run, index: int) -> None:
        """The visitor clicked button `index` of the current step (engagement)."""
        self._engage(flow)
        self._move(flow, run, f"button_{index}")

    def answer(self, flow: CompiledFlow, run: Run, text: str) -> None:
        """The visitor answered an ask or filled a promo card (engagement)."""
        step = flow.step(run.step)
        if not step.collects_input:
            return
        self._engage(flow)
        expect = step.expect or "email"  # a promo card collects an email address
        value = validate_answer(expect, text, step.choices)
        path = f"steps.{step.name}"
        if value is None and run.retries > 0:
            run.retries -= 1
            self._note(run, path, "answer not valid: asked again", expect=expect)
            self._speak(flow, run, step)
            return
        if value is None:
            self._move(flow, run, "invalid")
            return
        self.store(run, step.save or ("contact", "email"), value, path)
        self._move(flow, run, "valid")

    def timer(self, flow: CompiledFlow, run: Run, kind: TimerKind) -> None:
        """A step timeout or the end of a `wait`."""
        self._move(flow, run, "timeout" if kind == "step" else "next")

    # -- moving through steps ------------------------------------------------------------

    def _move(self, flow: CompiledFlow, run: Run, event: str) -> None:
        target = flow.target(run.step, event)
        if target is None:
            self._note(run, f"steps.{run.step}", f"no `{event}` exit here: ignored")
            return
        self.ctx.cancel_step_timers(run.flow)
        self.enter(flow, run, target)

    def enter(self, flow: CompiledFlow, run: Run, name: str) -> None:
        """Enter step `name` and go on through instant steps until one waits or ends.

        The checker refuses loops that never wait, so a run passes each step at most once
        here; the bound is a last guard against a flow that slipped past it.
        """
        for _ in range(len(flow.flow.steps) + 1):
            step = flow.step(name)
            run.step, run.retries = name, step.retries
            self.ctx.count_once(flow, f"step:{name}")
            self._note(run, f"steps.{name}", "entered")
            if not (self._speak(flow, run, step) and self._act(flow, run, step)):
                return
            if step.end:
                self._complete(flow, run)
                return
            target = self._instant_exit(run, step)
            if target is None:
                self._wait(run, step)
                return
            name = target
        self.ctx.stop(run, "stopped: a loop that never waits")

    def _instant_exit(self, run: Run, step: Step) -> str | None:
        for index, arm in enumerate(step.branch):
            path = f"steps.{step.name}.branch[{index}]"
            if arm.when is None or self._holds(run, arm.when.node, path):
                return arm.goto
        return step.next if step.wait is None else None

    def _wait(self, run: Run, step: Step) -> None:
        at = self.ctx.event.at
        if step.wait is not None:
            self.ctx.schedule("wait", run.flow, at + step.wait)
        if step.timeout is not None:
            self.ctx.schedule("step", run.flow, at + step.timeout[0])

    def _complete(self, flow: CompiledFlow, run: Run) -> None:
        record = self.ctx.state.funnel[flow.id]
        record.completed = True
        self.ctx.count_once(flow, "completed")
        if record.engaged:
            self.ctx.count_once(flow, "completed_engaged")
        self.ctx.funnel_row_changed(flow.id)
        self.ctx.stop(run, "completed")

    def _engage(self, flow: CompiledFlow) -> None:
        self.ctx.state.funnel[flow.id].engaged = True
        self.ctx.count_once(flow, "engaged")
        self.ctx.funnel_row_changed(flow.id)

    # -- what a step says and does -------------------------------------------------------

    def _speak(self, flow: CompiledFlow, run: Run, step: Step) -> bool:
        path = f"steps.{step.name}"
        say = self.render(run, step.say, f"{path}.say")
        ask = self.render(run, step.ask, f"{path}.ask")
        if say is None or ask is None:
            return False
        if step.say is not None or step.buttons:
            buttons = [
                {"label": b.label, "payload": f"{flow.id}|{run.number}|{step.name}|{i}"}
                for i, b in enumerate(step.buttons)
            ]
            self.command(run, "say", {"text": say, "buttons": buttons})
        if step.ask is not None:
            args = {"text": ask, "expect": step.expect, "choices": list(step.choices)}
            self.command(run, "ask", args)
        if step.promo_card is not None:
            card = step.promo_card
            text = self.render(run, card.text, f"{path}.promo_card.text")
            if text is None:
                return False
            args = {"title": card.title, "text": text, "image": card.image, "button": card.button}
            self.command(run, "promo_card", args)
        return True

    def _act(self, flow: CompiledFlow, run: Run, step: Step) -> bool:
        for action in step.actions:
            if not ACTIONS[action.kind](self, run, action):
                return False
            self._note(run, action.path, action.kind)
        return True

    # -- helpers ---------------------------------------------------------------------------

    def _note(self, run: Run, path: str, what: str, **details: Any) -> None:
        self.ctx.effects.note(f"{run.flow}:{path}", what, **details)

    def command(self, run: Run, kind: str, args: dict[str, Any]) -> None:
        """Queue a command for the run's conversation."""
        ctx = self.ctx
        ctx.effects.command(kind, ctx.state.visitor_id, run.conversation_id, run.flow, args)

    def render(self, run: Run, template: Template | None, path: str) -> str | None:
        """The template's text, or None after stopping the run on an evaluation error."""
        if template is None:
            return ""
        try:
            return render(template, self.ctx.facts(run.vars), self.ctx.event.at)
        except EvaluationError as err:
            self.ctx.stop(run, f"error at {path}: {err}")
            return None

    def value(self, run: Run, value: Any, path: str) -> tuple[bool, Any]:
        """A `set` value: a template that is one `{{ expr }}` keeps the expression's type."""
        if not isinstance(value, Template):
            return True, value
        if len(value.parts) == 1 and not isinstance(value.parts[0], str):
            try:
                return True, evaluate(value.parts[0], self.ctx.facts(run.vars), self.ctx.event.at)
            except EvaluationError as err:
                self.ctx.stop(run, f"error at {path}: {err}")
                return False, None
        text = self.render(run, value, path)
        return text is not None, text

    def _holds(self, run: Run, node: Any, path: str) -> bool:
        try:
            return evaluate(node, self.ctx.facts(run.vars), self.ctx.event.at) is True
        except EvaluationError as err:
            self._note(run, path, f"guard failed: {err}")
            return False

    def store(self, run: Run, target: tuple[str, ...], value: Any, path: str) -> None:
        """Save a value to a flow variable or, through a `set` command, a contact field."""
        root, name = target
        if root == "vars":
            run.vars[name] = value
        else:
            self.ctx.state.facts.setdefault("contact", {})[name] = value
            self.command(run, "set", {"field": f"contact.{name}", "value": value})
        self._note(run, path, "saved", field=".".join(target), value=value)


def validate_answer(expect: str, text: str, choices: tuple[str, ...] = ()) -> Any:
    """The value of a valid answer (email, phone, number, choice, text), else None."""
    text = text.strip()
    if expect == "email":
        return text.lower() if _EMAIL.match(text) else None
    if expect == "phone":
        digits = re.sub(r"[\s().-]", "", text)
        return digits if _PHONE.match(digits) else None
    if expect == "number":
        if not _NUMBER.match(text):
            return None
        number = float(text.replace(",", "."))
        return int(number) if number.is_integer() else number
    if expect == "choice":
        return next((c for c in choices if c.lower() == text.lower()), None)
    return text or None


def _tags(runner: StepRunner, run: Run, action: Action) -> bool:
    runner.command(run, action.kind, {"tags": list(action.args["tags"])})
    return True


def _set(runner: StepRunner, run: Run, action: Action) -> bool:
    ok, value = runner.value(run, action.args["value"], action.path)
    if ok:
        runner.store(run, action.args["field"], value, action.path)
    return ok


def _rendered(runner: StepRunner, run: Run, action: Action) -> bool:
    args: dict[str, Any] = {}
    for name, value in action.args.items():
        args[name] = value
        if isinstance(value, Template):
            args[name] = runner.render(run, value, f"{action.path}.{name}")
            if args[name] is None:
                return False
    runner.command(run, action.kind, args)
    return True


def _webhook(runner: StepRunner, run: Run, action: Action) -> bool:
    try:
        body = render_data(action.args["body"], runner.ctx.facts(run.vars), runner.ctx.event.at)
    except EvaluationError as err:
        runner.ctx.stop(run, f"error at {action.path}.body: {err}")
        return False
    runner.command(run, "webhook", {**action.args, "body": body})
    return True


def _plain(runner: StepRunner, run: Run, action: Action) -> bool:
    runner.command(run, action.kind, dict(action.args))
    return True


# The action registry: the same kinds as dsl.model.ACTIONS (a test holds them equal).
ACTIONS: dict[str, Callable[[StepRunner, Run, Action], bool]] = {
    "tag": _tags,
    "untag": _tags,
    "set": _set,
    "assign": _plain,
    "hosting": _plain,
    "email": _rendered,
    "webhook": _webhook,
    "end_conversation": _plain,
}
