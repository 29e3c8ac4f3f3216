"""A command kind is named alike everywhere it has a meaning: the flow schema, the DSL's
builders, the engine's handlers, and the chat layer's table of how each is carried out
(which the service and `parley test` both use)."""

from chat.commands import KINDS
from dsl.model import ACTIONS as BUILDERS
from dsl.structure import flow_schema
from engine.effects import MESSAGE_COMMANDS
from engine.steps import ACTIONS as HANDLERS


def test_schema_builders_and_handlers_name_the_same_actions() -> None:
    schema_kinds = flow_schema()["definitions"]["step"]["properties"]["do"]["items"]["properties"]
    assert set(schema_kinds) == set(BUILDERS) == set(HANDLERS)


def test_the_chat_layer_carries_out_every_command_the_engine_emits() -> None:
    emitted = set(HANDLERS) | MESSAGE_COMMANDS | {"notify"}  # notify: a waiting visitor's email
    assert set(KINDS) == emitted
