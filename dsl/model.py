"""Stage 3: turn structurally valid data into frozen flow values, parsing every expression.

The values here are what the engine runs: nothing in them is YAML-shaped any more.
Expression and template problems are reported at the exact character in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from dsl.durations import parse_duration
from dsl.errors import Diagnostic, ExpressionSyntaxError, Severity
from dsl.expressions import Node, Template, parse_expression, parse_template
from dsl.source import Document, Path
from dsl.structure import describe_path
from dsl.typecheck import infer

ALL_VISITORS = frozenset({"new", "returning"})
DEFAULT_STATES = frozenset({"hosted", "unassigned"})
WEBHOOK_TIMEOUT = 10  # seconds, when a webhook gives no `timeout`


@dataclass(frozen=True, slots=True)
class Guard:
    """A parsed `when:` expression with the text the author wrote."""

    source: str
    node: Node


@dataclass(frozen=True, slots=True)
class Trigger:
    """What starts a flow, with the filters checked when it fires."""

    kind: str  # one of dsl.triggers.KINDS
    when: Guard | None = None
    keywords: tuple[str, ...] = ()
    after: int = 0  # seconds of visitor silence, visitor_timeout only
    visitors: frozenset[str] = ALL_VISITORS
    states: frozenset[str] = DEFAULT_STATES
    off_platform: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """One entry of a step's `do:` list; `args` are normalised per kind."""

    kind: str
    args: Mapping[str, Any]
    path: str


@dataclass(frozen=True, slots=True)
class Button:
    """A quick-reply button and the step it leads to."""

    label: str
    goto: str


@dataclass(frozen=True, slots=True)
class Branch:
    """One arm of a `branch:`; the final `else` arm has no guard."""

    when: Guard | None
    goto: str


@dataclass(frozen=True, slots=True)
class PromoCard:
    """A card with an image that collects the visitor's email address."""

    title: str
    text: Template | None
    image: str
    button: str


@dataclass(frozen=True, slots=True)
class Exit:
    """A way out of a step: the event that takes it, where it leads, and where it is written."""

    event: str
    target: str
    instant: bool  # taken without waiting for the visitor or the clock
    path: Path


@dataclass(frozen=True, slots=True)
class Step:
    """One state of the flow: what it says and does, and how it moves on."""

    name: str
    say: Template | None = None
    buttons: tuple[Button, ...] = ()
    ask: Template | None = None
    expect: str | None = None
    choices: tuple[str, ...] = ()
    save: tuple[str, ...] | None = None
    retries: int = 0
    promo_card: PromoCard | None = None
    actions: tuple[Action, ...] = ()
    wait: int | None = None
    branch: tuple[Branch, ...] = ()
    on: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    timeout: tuple[int, str] | None = None  # (seconds, goto)
    next: str | None = None
    end: bool = False
    exits: tuple[Exit, ...] = ()  # every way out, in the order written; set by the builder

    @property
    def collects_input(self) -> bool:
        """True for `ask` and `promo_card` steps, which exit by `valid` or `invalid`."""
        return self.ask is not None or self.promo_card is not None


@dataclass(frozen=True, slots=True)
class Flow:
    """A checked flow: identity, trigger, guard, variables and steps."""

    id: str
    name: str
    version: str
    path: str
    mode: Literal["single", "restart"]
    trigger: Trigger
    when: Guard | None
    vars: Mapping[str, Any]
    start: str
    steps: Mapping[str, Step]


def build_flow(document: Document, version: str) -> tuple[Flow, list[Diagnostic]]:
    """Frozen flow values from valid data, plus every expression problem found on the way."""
    builder = _Builder(document)
    return builder.flow(version), builder.diagnostics


class _Builder:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.diagnostics: list[Diagnostic] = []

    def report(
        self,
        path: Path,
        message: str,
        rule: str,
        *,
        offset: int | None = None,
        hint: str | None = None,
        severity: Severity = "error",
    ) -> None:
        """Record a finding at `path`, or at character `offset` inside its text."""
        finding = self.document.finding(
            path, message, rule, hint=hint, severity=severity, offset=offset
        )
        self.diagnostics.append(finding)

    def flow(self, version: str) -> Flow:
        data = self.document.data
        steps = {name: self.step(name, raw) for name, raw in data["steps"].items()}
        return Flow(
            id=data["id"],
            name=data.get("name", data["id"]),
            version=version,
            path=self.document.path,
            mode=data.get("mode", "single"),
            trigger=self.trigger(data["trigger"]),
            when=self.guard(("when",), data.get("when")),
            vars=MappingProxyType(dict(data.get("vars", {}))),
            start=data["start"],
            steps=MappingProxyType(steps),
        )

    def trigger(self, raw: Mapping[str, Any]) -> Trigger:
        ((kind, options),) = raw.items()
        options = options or {}
        path: Path = ("trigger", kind)
        after = self.duration((*path, "after"), options.get("after"))
        return Trigger(
            kind=kind,
            when=self.guard((*path, "when"), options.get("when")),
            keywords=tuple(k.lower() for k in options.get("keywords", ())),
            after=0 if after is None else after,  # only visitor_timeout has it, and needs it
            visitors=frozenset(options.get("visitors", ALL_VISITORS)),
            states=frozenset(options.get("states", DEFAULT_STATES)),
            off_platform=options.get("off_platform", False),
        )

    def step(self, name: str, raw: Mapping[str, Any]) -> Step:
        path: Path = ("steps", name)
        content, asks, ways = (
            self._content(path, raw),
            self._input(path, raw),
            self._ways(path, raw),
        )
        exits = _exits(path, asks["buttons"], ways, raw)
        return Step(name, **content, **asks, **ways, exits=exits)

    def _content(self, path: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
        """What a step says and does when it is entered."""
        actions = [self.action((*path, "do", i), a) for i, a in enumerate(raw.get("do", ()))]
        return {"say": self.template((*path, "say"), raw.get("say")), "actions": tuple(actions)}

    def _input(self, path: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
        """What a step asks of the visitor."""
        save = raw.get("save")
        return {
            "buttons": tuple(Button(b["label"], b["goto"]) for b in raw.get("buttons", ())),
            "ask": self.template((*path, "ask"), raw.get("ask")),
            "expect": raw.get("expect"),
            "choices": tuple(raw.get("choices", ())),
            "save": tuple(save.split(".")) if save else None,
            "retries": raw.get("retries", 0),
            "promo_card": self.promo_card((*path, "promo_card"), raw.get("promo_card")),
        }

    def _ways(self, path: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
        """How a step moves on: its wait, branch, `on` exits, next and end."""
        on = dict(raw.get("on", {}))
        timeout = on.pop("timeout", None)
        arms = [self.branch((*path, "branch", i), b) for i, b in enumerate(raw.get("branch", ()))]
        return {
            "wait": self.duration((*path, "wait"), raw.get("wait")),
            "branch": tuple(arms),
            "on": MappingProxyType(on),
            "timeout": self.timeout((*path, "on", "timeout"), timeout),
            "next": raw.get("next"),
            "end": raw.get("end", False),
        }

    def timeout(self, path: Path, raw: Mapping[str, str] | None) -> tuple[int, str] | None:
        if raw is None:
            return None
        return parse_duration(raw["after"]), raw["goto"]

    def promo_card(self, path: Path, raw: Mapping[str, Any] | None) -> PromoCard | None:
        if raw is None:
            return None
        text = self.template((*path, "text"), raw.get("text"))
        return PromoCard(raw["title"], text, raw["image"], raw.get("button", "Get it"))

    def branch(self, path: Path, raw: Mapping[str, Any]) -> Branch:
        if "else" in raw:
            return Branch(None, raw["else"])
        return Branch(self.guard((*path, "when"), raw.get("when")), raw.get("goto", ""))

    def action(self, path: Path, raw: Mapping[str, Any]) -> Action:
        ((kind, value),) = raw.items()
        args = ACTIONS[kind](self, (*path, kind), value)
        return Action(kind, MappingProxyType(args), describe_path(path))

    def guard(self, path: Path, text: str | None) -> Guard | None:
        if text is None:
            return None
        try:
            node = parse_expression(text)
        except ExpressionSyntaxError as err:
            self.report(path, err.message, "expr-syntax", offset=err.offset, hint=err.hint)
            return None
        kind = self.typecheck(path, node)
        if kind not in ("bool", "any"):
            self.report(path, f"a guard must be true or false, but this is {kind}", "type-mismatch")
        return Guard(text, node)

    def template(self, path: Path, text: str | None) -> Template | None:
        if text is None:
            return None
        try:
            template = parse_template(text)
        except ExpressionSyntaxError as err:
            self.report(path, err.message, "expr-syntax", offset=err.offset, hint=err.hint)
            return None
        for node in template.expressions():
            self.typecheck(path, node)
        return template

    def typecheck(self, path: Path, node: Node) -> str:
        kind, issues = infer(node)
        for issue in issues:
            self.report(path, issue.message, issue.rule, offset=issue.offset, hint=issue.hint)
        return kind

    def duration(self, path: Path, text: str | None) -> int | None:
        # the schema's pattern and length have checked the text, so it parses
        return None if text is None else parse_duration(text)

    def data(self, path: Path, value: Any) -> Any:
        """A read-only copy of `value`, with every text in it parsed as a template."""
        if isinstance(value, str):
            return self.template(path, value)
        if isinstance(value, dict):  # depth is capped by the loader, so recursion is safe
            return MappingProxyType({k: self.data((*path, k), v) for k, v in value.items()})
        if isinstance(value, list):
            return tuple(self.data((*path, i), item) for i, item in enumerate(value))
        return value


def _exits(
    path: Path, buttons: tuple[Button, ...], ways: Mapping[str, Any], raw: Mapping[str, Any]
) -> tuple[Exit, ...]:
    """Every way out of the step at `path`, in the order the author wrote them."""
    found = [
        Exit(f"button_{i}", b.goto, False, (*path, "buttons", i, "goto"))
        for i, b in enumerate(buttons)
    ]
    found += [Exit(event, goto, False, (*path, "on", event)) for event, goto in ways["on"].items()]
    if ways["timeout"]:
        found.append(Exit("timeout", ways["timeout"][1], False, (*path, "on", "timeout", "goto")))
    # an arm's key is read from the file: a guard that did not parse leaves `when` empty
    arm_keys = ["else" if "else" in arm else "goto" for arm in raw.get("branch", ())]
    found += [
        Exit(f"branch_{i}", arm.goto, True, (*path, "branch", i, key))
        for i, (arm, key) in enumerate(zip(ways["branch"], arm_keys, strict=True))
    ]
    if ways["next"]:
        found.append(Exit("next", ways["next"], ways["wait"] is None, (*path, "next")))
    return tuple(found)


def _tags(_: _Builder, __: Path, value: str | list[str]) -> dict[str, Any]:
    return {"tags": (value,) if isinstance(value, str) else tuple(value)}


def _set(builder: _Builder, path: Path, value: Mapping[str, Any]) -> dict[str, Any]:
    raw = value["value"]
    template = builder.template((*path, "value"), raw) if isinstance(raw, str) else None
    return {"field": tuple(value["field"].split(".")), "value": template or raw}


def _assign(_: _Builder, __: Path, value: Mapping[str, str]) -> dict[str, Any]:
    return dict(value)


def _hosting(_: _Builder, __: Path, value: bool | str) -> dict[str, Any]:
    # YAML 1.1 reads `hosting: off` as false; authors may also quote "on"/"off"
    return {"on": value in (True, "on")}


def _email(builder: _Builder, path: Path, value: Mapping[str, str]) -> dict[str, Any]:
    return {
        "template": value["template"],
        "to": builder.template((*path, "to"), value["to"]),
        "subject": builder.template((*path, "subject"), value.get("subject")),
    }


def _webhook(builder: _Builder, path: Path, value: Mapping[str, Any]) -> dict[str, Any]:
    timeout = builder.duration((*path, "timeout"), value.get("timeout"))
    return {
        "url": value["url"],
        "timeout": WEBHOOK_TIMEOUT if timeout is None else timeout,
        "body": builder.data((*path, "body"), value.get("body", {})),
    }


def _end_conversation(_: _Builder, __: Path, ___: bool) -> dict[str, Any]:
    return {}


# The action registry: the same kinds the JSON Schema names (a test holds them equal).
ACTIONS: Mapping[str, Callable[[_Builder, Path, Any], dict[str, Any]]] = MappingProxyType(
    {
        "tag": _tags,
        "untag": _tags,
        "set": _set,
        "assign": _assign,
        "hosting": _hosting,
        "email": _email,
        "webhook": _webhook,
        "end_conversation": _end_conversation,
    }
)
