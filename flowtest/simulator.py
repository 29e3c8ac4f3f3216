"""Play visitors against flows on a virtual clock, with a small stand-in for the chat layer.

The engine is the real one, on a real Redis. What is simulated is the chat layer around
it: commands from the outbox are carried out on an in-memory conversation (a bot message
is "sent", hosting switched, tags set) and turned into the events the chat layer would
feed back, exactly as the service does. `parley simulate` and the Gherkin steps use it.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl.errors import FlowCheckError
from engine.core import Engine
from engine.events import ConversationState, Event, EventType
from engine.flows import FlowRegistry
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis
from engine.store import RedisStore


@dataclass
class Conversation:
    """One visitor's conversation as the chat layer would hold it."""

    visitor_id: str = "visitor-1"
    conversation_id: str = "conversation-1"
    channel: str = "messenger"
    is_new: bool = True
    contact: dict[str, Any] = field(default_factory=lambda: {"name": "Ana", "tags": []})
    hosting: bool = True
    assignee: str | None = None
    status: str = "ongoing"
    sent: list[dict[str, Any]] = field(default_factory=list)  # what the visitor was sent
    done: list[dict[str, Any]] = field(default_factory=list)  # every other command carried out

    @property
    def state(self) -> ConversationState:
        """The state flows see: hosted, assigned or unassigned."""
        if self.hosting:
            return "hosted"
        return "assigned" if self.assignee else "unassigned"

    def contact_facts(self) -> dict[str, Any]:
        """The contact fields events carry, with the display name derived."""
        facts = dict(self.contact)
        facts["display_name"] = facts.get("remark_name") or facts.get("name") or ""
        return facts


class Simulator:
    """Drives one conversation through the engine and carries out its commands."""

    def __init__(self, engine: Engine, clock: ManualClock, conversation: Conversation) -> None:
        self.engine = engine
        self.clock = clock
        self.conversation = conversation
        self._ids = itertools.count(1)
        self._carried_out: set[str] = set()
        self.last_event: Event | None = None

    def emit(self, kind: EventType, **fields: Any) -> Event:
        """Feed one event about the conversation to the engine, then carry out commands."""
        conv = self.conversation
        event = Event(
            id=f"sim-{next(self._ids)}",
            type=kind,
            visitor_id=conv.visitor_id,
            conversation_id=conv.conversation_id,
            at=self.clock.now(),
            channel=conv.channel,
            is_new=conv.is_new,
            state=conv.state,
            contact=conv.contact_facts(),
            assignee=conv.assignee,
            **fields,
        )
        self.last_event = event
        self.engine.handle(event)
        self.carry_out()
        return event

    def redeliver(self) -> None:
        """Deliver the last event again, as a retrying channel would."""
        assert self.last_event is not None, "no event was delivered yet"
        self.engine.handle(self.last_event)
        self.carry_out()

    def advance(self, seconds: float) -> None:
        """Let time pass, firing each timer at its due time, in order."""
        target = self.clock.now() + seconds
        while (due := self.engine.store.next_due()) is not None and due <= target:
            self.clock.advance(max(due - self.clock.now(), 0))
            self.engine.fire_due_timers()
            self.carry_out()
        self.clock.advance(target - self.clock.now())

    def carry_out(self) -> None:
        """Carry out every new command, as the chat layer would, once each."""
        while True:
            new = [
                c for c in self.engine.store.read_commands() if c["key"] not in self._carried_out
            ]
            if not new:
                return
            for command in new:
                if command["key"] in self._carried_out:
                    continue  # a nested event already carried it out
                self._carried_out.add(command["key"])
                _COMMANDS.get(command["kind"], Simulator._record)(self, command)

    def _send(self, command: dict[str, Any]) -> None:
        self.conversation.sent.append({"kind": command["kind"], **command["args"]})
        text = command["args"].get("text", "")
        self.emit("message.sent", sender="bot", text=text, flow=command["flow"])

    def _record(self, command: dict[str, Any]) -> None:
        self.conversation.done.append({"kind": command["kind"], **command["args"]})

    def _tag(self, command: dict[str, Any]) -> None:
        self._record(command)
        tags = self.conversation.contact.setdefault("tags", [])
        for tag in command["args"]["tags"]:
            if command["kind"] == "tag" and tag not in tags:
                tags.append(tag)
            elif command["kind"] == "untag" and tag in tags:
                tags.remove(tag)

    def _set(self, command: dict[str, Any]) -> None:
        self._record(command)
        self.conversation.contact[command["args"]["field"].split(".", 1)[1]] = command["args"][
            "value"
        ]

    def _assign(self, command: dict[str, Any]) -> None:
        self._record(command)
        args = command["args"]
        self.conversation.assignee = args["agent"]
        self.emit("conversation.assigned")

    def _hosting(self, command: dict[str, Any]) -> None:
        self._record(command)
        self.conversation.hosting = bool(command["args"]["on"])
        self.emit("conversation.hosting_changed")

    def _end(self, command: dict[str, Any]) -> None:
        self._record(command)
        self.conversation.status = "ended"
        self.emit("conversation.ended")


_COMMANDS = {
    "say": Simulator._send,
    "ask": Simulator._send,
    "promo_card": Simulator._send,
    "tag": Simulator._tag,
    "untag": Simulator._tag,
    "set": Simulator._set,
    "assign": Simulator._assign,
    "hosting": Simulator._hosting,
    "end_conversation": Simulator._end,
}


@contextlib.contextmanager
def simulation(flow_paths: list[Path], conversation: Conversation) -> Iterator[Simulator]:
    """A simulator on a private, throw-away Redis with the given flows loaded."""
    folder = Path(tempfile.mkdtemp(prefix="parley-sim-", dir="/tmp"))
    try:
        with EmbeddedRedis(folder) as server:
            client = server.client()
            flows = FlowRegistry(client)
            report = flows.load(flow_paths)
            if report.failed():
                raise FlowCheckError(report.diagnostics)
            clock = ManualClock()
            yield Simulator(Engine(RedisStore(client), flows, clock), clock, conversation)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
