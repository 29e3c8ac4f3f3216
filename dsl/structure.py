"""Stage 2: check a loaded document's structure against the flow JSON Schema.

A schema compiled by fastjsonschema answers "is it valid?" in a tenth of a millisecond, so
valid flows (nearly all of them) never reach the slower jsonschema walk. Only an invalid
document is walked by jsonschema, which lists every problem; this module then says each
one the way a flow author needs it: at the offending key or value, in the author's words,
with a did-you-mean where one helps.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from importlib import resources
from typing import Any, cast

import fastjsonschema
import jsonschema
from jsonschema.exceptions import relevance

from dsl.durations import format_duration
from dsl.errors import Diagnostic
from dsl.source import Document, Path, Span
from dsl.triggers import KINDS

_DEPENDENCY = re.compile(r"'(.+)' is a dependency of '(.+)'")
# the rule of a pattern mismatch, by the schema's title for the value; any other is `pattern`
_PATTERN_RULES = {
    "flow id": "name",
    "step name": "name",
    "variable name": "name",
    "duration": "duration-syntax",
}
_READ_AS = {"bool": "true or false", "int": "a number", "float": "a number", "null": "nothing"}
_KIND_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


@functools.cache
def flow_schema() -> dict[str, Any]:
    """The flow JSON Schema (`parley schema` prints it)."""
    text = resources.files("dsl").joinpath("flow.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    trigger = schema["properties"]["trigger"]
    trigger["properties"] = {name: kind.schema() for name, kind in KINDS.items()}
    trigger["description"] = f"exactly one trigger: {', '.join(KINDS)}"
    return schema


@functools.cache
def _is_valid() -> Callable[[Any], Any]:
    # a copy: fastjsonschema rewrites every $ref in the schema it is given into a full URI
    schema = copy.deepcopy(flow_schema())
    return fastjsonschema.compile(schema, use_default=False, use_formats=False)


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(flow_schema())


def check_structure(document: Document) -> list[Diagnostic]:
    """Every structural problem of the document, each located at its key or value."""
    try:
        _is_valid()(document.data)
    except fastjsonschema.JsonSchemaException:
        pass  # fall through to jsonschema, which finds and explains every problem
    else:
        return []
    diagnostics: list[Diagnostic] = []
    for error in _validator().iter_errors(document.data):
        diagnostics.extend(_explain(document, error))
    return sorted(diagnostics, key=lambda d: (d.location.line, d.location.col))


def describe_path(path: Path) -> str:
    """`steps.nudge.do[1]`: the dotted path authors see in messages and traces."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the flow"


def _schema(error: jsonschema.ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _explain(document: Document, error: jsonschema.ValidationError) -> Iterator[Diagnostic]:
    path: Path = tuple(error.absolute_path)
    if "propertyNames" not in error.absolute_schema_path:
        yield from _explain_at(document, error, path)
        return
    key_path = (*path, str(error.instance))  # the error is about a key, not its value
    for diagnostic in _explain_at(document, error, key_path):
        yield replace(diagnostic, location=document.key_location(key_path))


def _explain_at(
    document: Document, error: jsonschema.ValidationError, path: Path
) -> Iterator[Diagnostic]:
    validator = str(error.validator)
    if validator in _EXPLAIN_ALL:
        yield from _EXPLAIN_ALL[validator](document, error, path)
    elif validator in _EXPLAIN:
        yield _EXPLAIN[validator](document, error, path)
    else:
        yield _at(document, path, f"{describe_path(path)}: {error.message}", "schema")


def _unknown_keys(
    document: Document, error: jsonschema.ValidationError, path: Path
) -> Iterator[Diagnostic]:
    schema = _schema(error)
    known = sorted(schema.get("properties", {}))
    hints = schema.get("x-key-hints", {})  # keys authors may expect, and what to write instead
    instance = error.instance if isinstance(error.instance, dict) else {}
    for key in (k for k in instance if k not in known):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        hint = hints.get(key, hint)
        location = document.key_location((*path, key))
        message = f"unknown key '{key}' in {describe_path(path)}"
        yield Diagnostic(location, "error", message, "unknown-key", hint)


def _any_of(
    document: Document, error: jsonschema.ValidationError, path: Path
) -> Iterator[Diagnostic]:
    """Explain the accepted form the value comes closest to, or list the forms."""
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [sub for subs in branches.values() if not _wrong_kind(subs) for sub in subs]
    if not fitting:  # the value is of a kind no form takes
        expected = _schema(error).get("description", "a different value")
        message = f"{describe_path(path)} must be {expected}, not {_kind_of(error.instance)}"
        yield _at(document, path, message, "shape")
        return
    closest = min(fitting, key=relevance).relative_schema_path[0]
    for sub in branches[closest]:
        yield from _explain(document, sub)


def _wrong_kind(errors: list[jsonschema.ValidationError]) -> bool:
    return any(e.validator == "type" and not e.relative_path for e in errors)


def _missing(document: Document, error: jsonschema.ValidationError, path: Path) -> Diagnostic:
    # jsonschema says "'goto' is a required property"; keep the name, drop the jargon
    missing = error.message.partition(" is a required property")[0]
    message = f"{describe_path(path)} is missing {missing}"
    return Diagnostic(document.key_location(path), "error", message, "missing-key")


def _dependency(document: Document, error: jsonschema.ValidationError, path: Path) -> Diagnostic:
    """`ask` without `expect`: draft-07 `dependencies` says "'expect' is a dependency of 'ask'"."""
    match = _DEPENDENCY.fullmatch(error.message)
    if match is None:
        return _at(document, path, f"{describe_path(path)}: {error.message}", "schema")
    needed, needing = match.groups()
    message = f"{describe_path(path)} is missing '{needed}', which '{needing}' needs"
    return Diagnostic(document.key_location((*path, needing)), "error", message, "missing-key")


def _shape(document: Document, error: jsonschema.ValidationError, path: Path) -> Diagnostic:
    expected = _schema(error).get("description", "a different value")
    return _at(document, path, f"{describe_path(path)} must be {expected}", "shape")


def _type_problem(document: Document, error: jsonschema.ValidationError, path: Path) -> Diagnostic:
    span = document.span(path)
    if _schema(error).get("title") == "duration":
        return _not_a_duration(document, path, span, error.instance)
    read_as = _read_as(span)
    if error.validator_value == "string" and read_as:
        message = f"YAML reads {_shown(span.raw)} as {read_as}, not as text"
        return _at(document, path, message, "yaml-type", f'put it in quotes: "{_shown(span.raw)}"')
    kinds = error.validator_value
    if isinstance(kinds, list):  # several kinds: the schema words them best
        wanted = _schema(error).get("description") or " or ".join(_KIND_WORDS[k] for k in kinds)
    else:
        wanted = _KIND_WORDS.get(str(kinds), str(kinds))
    message = f"{describe_path(path)} must be {wanted}, not {_kind_of(error.instance)}"
    return _at(document, path, message, "type")


def _read_as(span: Span) -> str | None:
    """How YAML read a plain word that looks like text: `no` as true or false, and so on."""
    if not span.raw or span.style:
        return None
    return _READ_AS.get(span.yaml_type)


def _not_a_duration(document: Document, path: Path, span: Span, read: Any) -> Diagnostic:
    if span.yaml_type in ("int", "float"):
        return _duration_without_unit(document, path, span.raw, read)
    hint = "expected a duration such as 15m"
    read_as = _read_as(span)
    if read_as:
        message = f"YAML reads {_shown(span.raw)} as {read_as}, not as a duration"
        return _at(document, path, message, "yaml-type", hint)
    message = f"{describe_path(path)} must be a duration, not {_kind_of(read)}"
    return _at(document, path, message, "type", hint)


def _duration_without_unit(document: Document, path: Path, raw: str, read: Any) -> Diagnostic:
    raw = _shown(raw)
    message = f"duration {raw} has no unit"
    if ":" in raw:  # YAML 1.1 reads 10:00 as base-60, that is 600
        message = f"duration {raw} has no unit (YAML reads it as the number {_shown(str(read))})"
        hint = "write it with units, for example 10m, 10h or 1h30m"
    elif isinstance(read, int) and read >= 0:
        hint = f"add a unit: {raw}s, {raw}m, {raw}h or {raw}d"
    else:
        hint = _whole_units(raw, read)
    return _at(document, path, message, "duration-unit", hint)


def _whole_units(raw: str, read: float) -> str:
    """A hint for `1.5` or `-5`: durations count whole units, so 1.5 minutes is 1m30s."""
    if not 0 < read < 1_000_000:  # also false for nan
        return "a duration is whole numbers with units, for example 90s, 15m or 1h30m"
    as_minutes, as_hours = round(read * 60), round(read * 3600)  # in seconds
    if not as_minutes:
        return "a duration is whole numbers with units, for example 1s or 30s"
    return (
        f"durations count whole units: write {format_duration(as_minutes)} for {raw} minutes"
        f" or {format_duration(as_hours)} for {raw} hours"
    )


def _enum_problem(document: Document, error: jsonschema.ValidationError, path: Path) -> Diagnostic:
    choices = [str(c) for c in cast(list[Any], error.validator_value)]
    value = _shown(str(error.instance))
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f"did you mean '{close[0]}'?" if close else None
    message = f"{describe_path(path)} must be one of {', '.join(choices)}; got '{value}'"
    return _at(document, path, message, "enum", hint)


def _pattern_problem(
    document: Document, error: jsonschema.ValidationError, path: Path
) -> Diagnostic:
    title = _schema(error).get("title", "value")
    expected = _schema(error).get("description", f"text matching {error.validator_value}")
    rule = _PATTERN_RULES.get(title, "pattern")
    message = f"'{_shown(str(error.instance))}' is not a valid {title}: expected {expected}"
    return _at(document, path, message, rule)


def _length_problem(
    document: Document, error: jsonschema.ValidationError, path: Path
) -> Diagnostic:
    limit = cast(int, error.validator_value)
    unit = "character" if error.validator in ("minLength", "maxLength") else "item"
    unit += "" if limit == 1 else "s"
    if error.validator == "minLength" and limit == 1:
        message = f"{describe_path(path)} must not be empty"
    elif str(error.validator).startswith("min"):
        message = f"{describe_path(path)} must have at least {limit:,} {unit}"
    else:
        message = f"{describe_path(path)} is too long: at most {limit:,} {unit}"
    return _at(document, path, message, "schema")


def _kind_of(value: Any) -> str:
    for kind, python_type in (
        ("boolean", bool),
        ("string", str),
        ("integer", int),
        ("number", float),
        ("object", dict),
        ("array", list),
    ):
        if isinstance(value, python_type):
            return _KIND_WORDS[kind]
    return _KIND_WORDS["null"]


def _shown(text: str) -> str:
    """Text quoted in a message, cut short: a finding should fit on a line or two."""
    return text if len(text) <= 60 else text[:57] + "..."


def _at(
    document: Document, path: Path, message: str, rule: str, hint: str | None = None
) -> Diagnostic:
    return Diagnostic(document.location(path), "error", message, rule, hint)


_Explain = Callable[[Document, jsonschema.ValidationError, Path], Diagnostic]
_EXPLAIN: Mapping[str, _Explain] = {
    "required": _missing,
    "dependencies": _dependency,
    "type": _type_problem,
    "enum": _enum_problem,
    "pattern": _pattern_problem,
    **dict.fromkeys(("minLength", "maxLength", "minItems", "maxItems"), _length_problem),
    **dict.fromkeys(("minProperties", "maxProperties", "const"), _shape),
}
_EXPLAIN_ALL: Mapping[
    str, Callable[[Document, jsonschema.ValidationError, Path], Iterator[Diagnostic]]
] = {"additionalProperties": _unknown_keys, "anyOf": _any_of}
