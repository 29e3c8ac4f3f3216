"""Draw a compiled flow as a Mermaid state diagram or a Graphviz dot graph."""

from __future__ import annotations

from collections.abc import Iterator

from dsl.compiler import CompiledFlow
from dsl.durations import format_duration
from dsl.model import Exit, Step


def edges(compiled: CompiledFlow) -> Iterator[tuple[str, str, str]]:
    """(source, target, label) for every exit, in the order the steps are written."""
    for step in compiled.flow.steps.values():
        for exit_ in step.exits:
            yield step.name, exit_.target, _label(step, exit_)


def mermaid(compiled: CompiledFlow) -> str:
    """The flow as a Mermaid `stateDiagram-v2`."""
    lines = ["stateDiagram-v2", f"    [*] --> {compiled.flow.start}"]
    lines += [f"    {s} --> {t}: {_plain(label)}" for s, t, label in edges(compiled)]
    lines += [f"    {name} --> [*]" for name, step in compiled.flow.steps.items() if step.end]
    return "\n".join(lines)


def dot(compiled: CompiledFlow) -> str:
    """The flow as a Graphviz digraph."""
    lines = [f'digraph "{compiled.flow.id}" {{', "    rankdir=LR;", '    "[start]" [shape=point];']
    lines.append(f'    "[start]" -> "{compiled.flow.start}";')
    for name, step in compiled.flow.steps.items():
        if step.end:
            lines.append(f'    "{name}" [shape=doublecircle];')
    lines += [f'    "{s}" -> "{t}" [label="{_quoted(label)}"];' for s, t, label in edges(compiled)]
    lines.append("}")
    return "\n".join(lines)


def _label(step: Step, exit_: Exit) -> str:
    kind, _, index = exit_.event.partition("_")
    if kind == "button":
        return f"button '{step.buttons[int(index)].label}'"
    if kind == "branch":
        guard = step.branch[int(index)].when
        return f"when {guard.source}" if guard else "else"
    if exit_.event == "timeout" and step.timeout:
        return f"no reply for {format_duration(step.timeout[0])}"
    if exit_.event == "next" and step.wait:
        return f"after {format_duration(step.wait)}"
    return exit_.event


def _plain(label: str) -> str:
    # Mermaid ends a label at a newline and chokes on ':' and quotes inside it
    return label.replace("\n", " ").replace(":", " ").replace('"', "'")


def _quoted(label: str) -> str:
    return label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
