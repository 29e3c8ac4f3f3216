"""Stage 5: compile a checked flow into a state machine and the lookup table derived from it.

The `transitions` Machine is built once per flow version (model-less, no auto transitions:
that keeps a 50-step build well under a millisecond) and checks that every transition joins
two known states. Running a visitor never builds or binds a Machine: the engine follows
`CompiledFlow.table`, a read-only mapping that `compile_flow` reads off the Machine's own
events, so both always agree. The Machine itself is not kept: its ~900 objects per flow,
tied in reference cycles, would only make every garbage collection slower.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from transitions import Machine

from dsl.model import Flow, Step


@dataclass(frozen=True, slots=True)
class CompiledFlow:
    """A checked flow with its state machine: steps are states, exits are events."""

    flow: Flow
    table: Mapping[str, Mapping[str, str]]  # step -> event -> next step

    @property
    def id(self) -> str:
        """The flow's id."""
        return self.flow.id

    @property
    def version(self) -> str:
        """The content hash that names this version of the flow."""
        return self.flow.version

    def step(self, name: str) -> Step:
        """The step called `name`."""
        return self.flow.steps[name]

    def target(self, step: str, event: str) -> str | None:
        """Where `event` leads from `step`, or None when the step has no such exit."""
        return self.table.get(step, {}).get(event)


def compile_flow(flow: Flow) -> CompiledFlow:
    """Build the flow's Machine once and derive its transition table."""
    transitions = [
        {"trigger": exit_.event, "source": step.name, "dest": exit_.target}
        for step in flow.steps.values()
        for exit_ in step.exits
    ]
    machine = Machine(
        model=None,
        states=list(flow.steps),
        transitions=transitions,
        initial=flow.start,
        auto_transitions=False,
    )
    table: dict[str, dict[str, str]] = {name: {} for name in flow.steps}
    for event_name, event in machine.events.items():
        for source, candidates in event.transitions.items():
            table[source][event_name] = str(candidates[0].dest)  # every exit names a step
    frozen = MappingProxyType({name: MappingProxyType(exits) for name, exits in table.items()})
    return CompiledFlow(flow, frozen)
