"""Errors and diagnostics of the flow language: one base error, located findings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

# The line breaks libyaml counts in its marks; str.splitlines() knows more (form feed, ...).
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """The lines of `text`, split where YAML starts a new line (LF, CRLF, CR, NEL, LS, PS)."""
    return _LINE_BREAK.split(text)


class FlowError(Exception):
    """Base of every error the flow language raises."""


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a flow file; line and column count from 1."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding of `parley check`, rendered like a compiler's."""

    location: Location
    severity: Severity
    message: str
    rule: str
    hint: str | None = None

    def headline(self) -> str:
        """`path:line:col: severity: message [rule]`."""
        return f"{self.location}: {self.severity}: {self.message} [{self.rule}]"

    def render(self, source: str | None = None) -> str:
        """The headline, the source line with a caret under the spot, and the hint."""
        lines = [self.headline()]
        if source is not None:
            lines.extend(_excerpt(source, self.location.line, self.location.col))
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict (`parley check --format json`)."""
        return {
            "path": self.location.path,
            "line": self.location.line,
            "col": self.location.col,
            "severity": self.severity,
            "message": self.message,
            "rule": self.rule,
            "hint": self.hint,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        """A finding read back from `as_json` (the loaded flow set in Redis keeps them)."""
        location = Location(data["path"], data["line"], data["col"])
        return cls(location, data["severity"], data["message"], data["rule"], data["hint"])


def _excerpt(source: str, line: int, col: int) -> list[str]:
    source_lines = split_lines(source)
    if not 1 <= line <= len(source_lines):
        return []
    text = source_lines[line - 1]
    if len(text) > 200:  # keep a window around the spot on very long lines
        start = max(0, col - 100)
        text, col = text[start : start + 200], col - start
    gutter = f"{line} | "
    # the caret line copies the tabs before the spot, so the caret lands under it
    indent = "".join("\t" if char == "\t" else " " for char in text[: col - 1])
    return [f"  {gutter}{text}", "  " + " " * len(gutter) + indent + "^"]


class FlowCheckError(FlowError):
    """A flow failed its check; carries every finding."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.headline() for d in diagnostics))


class ExpressionSyntaxError(FlowError):
    """An expression or template that does not parse; `offset` counts from 0 in its text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        self.message = message
        self.offset = offset
        self.hint = hint
        super().__init__(f"{message} (at offset {offset})")


class EvaluationError(FlowError):
    """An expression failed at run time, for example a comparison of a text with a number."""
