"""Stage 2: check a loaded document's structure against the flow JSON Schema.

A schema compiled by fastjsonschema answers "is it valid?" in a tenth of a millisecond, so
valid flows (nearly all of them) never reach the slower jsonschema walk. Only an invalid
document is walked by jsonschema, which lists every problem; this module then says each
one the way a flow author needs it: at the offending key or value, in the author's words,
with a did-you-mean where one helps.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from typing import Any, cast

import fastjsonschema
import jsonschema

from dsl.errors import Diagnostic
from dsl.source import Document, Path

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
    return schema


@functools.cache
def _is_valid() -> Callable[[Any], Any]:
    return fastjsonschema.compile(flow_schema(), use_default=False, use_formats=False)


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
    where = describe_path(path)
    validator = str(error.validator)
    if validator == "additionalProperties":
        yield from _unknown_keys(document, error, path)
    elif validator == "required":
        missing = _quoted_names(error.message)
        yield _at_key(document, path, f"{where} is missing {missing}", "missing-key")
    elif validator == "type":
        yield _type_problem(document, error, path)
    elif validator == "enum":
        yield _enum_problem(document, error, path)
    elif validator == "pattern":
        yield _pattern_problem(document, error, path)
    elif validator == "dependentRequired":
        yield _at_key(document, path, f"{where}: {error.message}", "missing-key")
    elif validator in ("minProperties", "maxProperties", "anyOf", "const"):
        expected = _schema(error).get("description", "a different value")
        yield _at(document, path, f"{where} must be {expected}", "shape")
    else:
        yield _at(document, path, f"{where}: {error.message}", "schema")


def _unknown_keys(
    document: Document, error: jsonschema.ValidationError, path: Path
) -> Iterator[Diagnostic]:
    known = sorted(_schema(error).get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    for key in (k for k in instance if k not in known):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        location = document.key_location((*path, key))
        message = f"unknown key '{key}' in {describe_path(path)}"
        yield Diagnostic(location, "error", message, "unknown-key", hint)


def _type_problem(document: Document, error: jsonschema.ValidationError, path: Path) -> Diagnostic:
    span = document.span(path)
    expected = error.validator_value
    title = _schema(error).get("title", "")
    if title == "duration" and span.yaml_type in ("int", "float"):
        return _duration_without_unit(document, path, span.raw, error.instance)
    read_as = {"bool": "true or false", "int": "a number", "float": "a number", "null": "nothing"}
    if expected == "string" and span.yaml_type in read_as and span.raw and not span.style:
        message = f"YAML reads {span.raw} as {read_as[span.yaml_type]}, not as text"
        hint = f'put it in quotes: "{span.raw}"'
        return _at(document, path, message, "yaml-type", hint)
    kinds = expected if isinstance(expected, list) else [expected]
    wanted = " or ".join(_KIND_WORDS.get(str(k), str(k)) for k in kinds)
    message = f"{describe_path(path)} must be {wanted}, not {_kind_of(error.instance)}"
    return _at(document, path, message, "type")


def _duration_without_unit(document: Document, path: Path, raw: str, read: Any) -> Diagnostic:
    if ":" in raw:  # YAML 1.1 reads 10:00 as base-60, that is 600
        message = f"duration {raw} has no unit (YAML reads it as the number {read})"
        hint = "write it with units, for example 10m, 10h or 1h30m"
    else:
        message = f"duration {raw} has no unit"
        hint = f"add a unit: {raw}s, {raw}m, {raw}h or {raw}d"
    return _at(document, path, message, "duration-unit", hint)


def _enum_problem(document: Document, error: jsonschema.ValidationError, path: Path) -> Diagnostic:
    choices = [str(c) for c in cast(list[Any], error.validator_value)]
    value = str(error.instance)
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f"did you mean '{close[0]}'?" if close else None
    message = f"{describe_path(path)} must be one of {', '.join(choices)}; got '{value}'"
    return _at(document, path, message, "enum", hint)


def _pattern_problem(
    document: Document, error: jsonschema.ValidationError, path: Path
) -> Diagnostic:
    title = _schema(error).get("title", "value")
    expected = _schema(error).get("description", f"text matching {error.validator_value}")
    rule = "duration-syntax" if title == "duration" else "name"
    message = f"'{error.instance}' is not a valid {title}: expected {expected}"
    return _at(document, path, message, rule)


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


def _quoted_names(message: str) -> str:
    # jsonschema says "'goto' is a required property"; keep the name, drop the jargon
    return message.partition(" is a required property")[0]


def _at(
    document: Document, path: Path, message: str, rule: str, hint: str | None = None
) -> Diagnostic:
    return Diagnostic(document.location(path), "error", message, rule, hint)


def _at_key(document: Document, path: Path, message: str, rule: str) -> Diagnostic:
    return Diagnostic(document.key_location(path), "error", message, rule)
