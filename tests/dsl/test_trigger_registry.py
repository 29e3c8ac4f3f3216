"""Trigger kinds live in one registry (dsl/triggers/): the flow schema's `trigger` section is
made from it, and the schema file editors read is what it makes."""

from __future__ import annotations

import json
from pathlib import Path

from dsl.structure import flow_schema
from dsl.triggers import KINDS

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "dsl" / "flow.schema.json"


def test_the_schema_file_is_what_the_registry_makes() -> None:
    # after adding a kind: `parley schema > dsl/flow.schema.json`
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == flow_schema()


def test_the_schema_offers_exactly_the_registered_kinds() -> None:
    trigger = flow_schema()["properties"]["trigger"]
    assert list(trigger["properties"]) == list(KINDS)
    assert trigger["description"] == f"exactly one trigger: {', '.join(KINDS)}"


def test_every_kind_is_started_by_something() -> None:
    assert all(kind.starts_on or kind.silence_clock for kind in KINDS.values())
