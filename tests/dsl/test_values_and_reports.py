"""The values a checked flow is built into, and how findings are drawn on their source line."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import pytest

from dsl.errors import Diagnostic, Location, split_lines
from dsl.expressions import Template
from dsl.model import WEBHOOK_TIMEOUT, Flow, build_flow
from dsl.pipeline import FlowCompiler
from dsl.source import load_document
from dsl.structure import flow_schema

_HEAD = "id: x\ntrigger:\n  conversation_started:\nstart: a\nsteps:\n"


def _flow(steps: str) -> Flow:
    document = load_document("x.yaml", (_HEAD + steps).encode())
    flow, _ = build_flow(document, "v1")
    return flow


# --- drawing a finding on its line


def test_the_caret_line_copies_the_tabs_before_the_spot() -> None:
    finding = Diagnostic(Location("x.yaml", 1, 4), "error", "m", "r")
    assert finding.render("\t\tab c\n").splitlines()[1:] == ["  1 | \t\tab c", "      \t\t ^"]


@pytest.mark.parametrize("source", ["a\r\nb\r\nc", "a\rb\rc", "a\x85b\u2028c", "a\nb\u2029c"])
def test_lines_end_where_yaml_ends_them(source: str) -> None:
    assert split_lines(source) == ["a", "b", "c"]
    finding = Diagnostic(Location("x.yaml", 3, 1), "error", "m", "r")
    assert finding.render(source).splitlines()[1] == "  3 | c"


def test_a_form_feed_does_not_end_a_line() -> None:
    assert split_lines("a\x0cb\nc") == ["a\x0cb", "c"]


# --- values


def test_a_webhook_body_is_read_only_with_its_texts_as_templates() -> None:
    flow = _flow(
        "  a:\n    do:\n"
        "      - webhook: {url: 'https://h.example', body: {a: ['{{ contact.email }}', 1]}}\n"
        "    end: true\n"
    )
    args = flow.steps["a"].actions[0].args
    assert isinstance(args["body"], MappingProxyType)
    text, number = args["body"]["a"]
    assert isinstance(text, Template)
    assert number == 1
    assert args["timeout"] == WEBHOOK_TIMEOUT


def test_a_zero_duration_stays_zero_and_an_absent_one_is_none() -> None:
    flow = _flow(
        "  a:\n    wait: 0s\n    next: b\n"
        "  b:\n    do:\n      - webhook: {url: 'https://h.example', timeout: 0s}\n    next: c\n"
        "  c:\n    end: true\n"
    )
    assert flow.steps["a"].wait == 0
    assert flow.steps["b"].actions[0].args["timeout"] == 0
    assert flow.steps["c"].wait is None


def test_an_arm_with_a_broken_guard_keeps_its_goto_exit() -> None:
    flow = _flow(
        "  a:\n    branch:\n      - {when: 'x ==', goto: b}\n      - else: b\n  b:\n    end: true\n"
    )
    assert [e.path[-1] for e in flow.steps["a"].exits] == ["goto", "else"]


# --- files and schema


def test_a_file_given_alone_and_inside_its_folder_is_checked_once(tmp_path: Path) -> None:
    flow = tmp_path / "a.yaml"
    flow.write_text(_HEAD + "  a:\n    end: true\n", encoding="utf-8")
    report = FlowCompiler().check_paths([flow, tmp_path, tmp_path / "." / "a.yaml"])
    assert [f.path for f in report.files] == [str(flow)]
    assert not report.diagnostics


def test_every_trigger_takes_the_same_states() -> None:
    triggers = flow_schema()["properties"]["trigger"]["properties"]
    options = [
        triggers["conversation_started"]["anyOf"][1],
        triggers["message_received"]["anyOf"][1],
        triggers["visitor_timeout"],
    ]
    assert all(o["properties"]["states"] == {"$ref": "#/definitions/states"} for o in options)


def test_checking_a_flow_leaves_the_printed_schema_as_written() -> None:
    before = json.dumps(flow_schema())
    FlowCompiler().check_source("x.yaml", b"id: x\n")
    assert json.dumps(flow_schema()) == before
