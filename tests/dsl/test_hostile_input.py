"""Fuzzing the whole check: whatever the bytes, the answer is findings, never a crash.

Three generators share the 10,000+ examples the issue asks for: raw bytes, YAML-looking
text, and real flows with one part of them swapped for something random.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.errors import Diagnostic
from dsl.pipeline import FileResult, FlowCompiler

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "flows").glob("*.yaml"))
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

_yaml_alphabet = st.sampled_from(
    [
        *"abcdefghijklmnopqrstuvwxyz0123456789 _-:{}[],'\"#&*!|>?%@`\n\t\\.",
        *("id: ", "steps:", "start: ", "trigger:", "  ", "- ", "{{", "}}", "when: "),
        *("\u00e4", "\ufeff"),
    ]
)

_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _assert_answered(result: FileResult) -> None:
    assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
    if result.flow is None:
        assert result.errors > 0  # a file that did not compile always says why


@settings(FAST, max_examples=1_000)
@given(raw=st.binary(max_size=400))
def test_any_bytes_get_findings_not_a_crash(raw: bytes) -> None:
    _assert_answered(FlowCompiler().check_source("fuzz.yaml", raw))


@settings(FAST, max_examples=1_000)
@given(parts=st.lists(_yaml_alphabet, max_size=120))
def test_yaml_like_text_gets_findings_not_a_crash(parts: list[str]) -> None:
    _assert_answered(FlowCompiler().check_source("fuzz.yaml", "".join(parts).encode()))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@settings(FAST, max_examples=1_500)
@given(data=st.data(), replacement=_values)
def test_real_flows_with_a_random_part_get_findings_not_a_crash(
    data: st.DataObject, replacement: Any
) -> None:
    flow = yaml.safe_load(data.draw(st.sampled_from(SHIPPED)).read_text())
    path = data.draw(st.sampled_from(_paths(flow)[1:]))
    parent = flow
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = replacement
    raw = yaml.safe_dump(flow, allow_unicode=True).encode()
    _assert_answered(FlowCompiler().check_source("fuzz.yaml", raw))


_FLOW = "id: x\ntrigger:\n  conversation_started:\nstart: a\nsteps:\n  a:\n    end: true\n"
_DEEP_GROUPS = "(" * 600 + "a" + ")" * 600


def _flow_with(step: str) -> str:
    return _FLOW.replace("    end: true\n", step)


# Inputs that once crashed the check or were wrongly reported, each with the rule that now
# reports it.
CRASHERS = [
    ("name: !!bool maybe\n", "yaml-type"),
    ("name: !!int abc\n", "yaml-type"),
    ("name: !!int\n", "yaml-type"),
    ('name: !!float ""\n', "yaml-type"),
    ("name: 0b_\n", "yaml-type"),
    ("name: 0x_\n", "yaml-type"),
    ("name: " + "9" * 5000 + "\n", "yaml-type"),
    ("name: 0x" + "f" * 4000 + "\n", "yaml-type"),
    ("name: 1" + ":59" * 3000 + "\n", "yaml-type"),
    ("id: a\x01b\n", "encoding"),
    ("<<: {id: x}\n", "yaml-syntax"),
    ("!weird id: x\n", "yaml-tag"),
    (
        _flow_with(f'    say: \'{{{{ "a" matches "{_DEEP_GROUPS}" }}}}\'\n    end: true\n'),
        "bad-regex",
    ),
    (
        _flow_with('    say: \'{{ "a" matches "a{99999999999999999999}" }}\'\n    end: true\n'),
        "bad-regex",
    ),
    (_flow_with("    wait: " + "9" * 5000 + "s\n    next: a\n"), "schema"),
]


@pytest.mark.parametrize(("text", "rule"), CRASHERS)
def test_known_hostile_inputs_get_their_finding(text: str, rule: str) -> None:
    result = FlowCompiler().check_source("crash.yaml", text.encode())
    _assert_answered(result)
    assert rule in {d.rule for d in result.diagnostics}, result.diagnostics


@pytest.mark.parametrize("text", [text for text, _ in CRASHERS])
def test_every_finding_renders_on_its_source(text: str) -> None:
    result = FlowCompiler().check_source("crash.yaml", text.encode())
    for diagnostic in result.diagnostics:
        assert diagnostic.headline() in diagnostic.render(result.source)
