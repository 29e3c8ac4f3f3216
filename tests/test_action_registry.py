"""The action kinds are one set: the JSON Schema, the DSL's builders, the engine's handlers."""

from dsl.model import ACTIONS as BUILDERS
from dsl.structure import flow_schema
from engine.steps import ACTIONS as HANDLERS


def test_schema_builders_and_handlers_name_the_same_actions() -> None:
    schema_kinds = flow_schema()["definitions"]["step"]["properties"]["do"]["items"]["properties"]
    assert set(schema_kinds) == set(BUILDERS) == set(HANDLERS)
