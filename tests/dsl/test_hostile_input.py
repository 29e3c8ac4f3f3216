"""Fuzzing the whole check: whatever the bytes, the answer is findings, never a crash.

Three generators share the 10,000+ examples the issue asks for: raw bytes, YAML-looking
text, and real flows with one part of them swapped for something random.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


@settings(FAST, max_examples=3_000)
@given(raw=st.binary(max_size=400))
def test_any_bytes_get_findings_not_a_crash(raw: bytes) -> None:
    _assert_answered(FlowCompiler().check_source("fuzz.yaml", raw))


@settings(FAST, max_examples=3_000)
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


@settings(FAST, max_examples=4_000)
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
