"""Parley's Gherkin step library: flow authors test flows in plain sentences, no Python.

`parley test FEATURES...` runs feature files with these steps; Parley's own features in
tests/features/engine use the very same ones. Every scenario gets an empty Redis, a
virtual clock and one visitor; time passes only when a step says so.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pytest_bdd import given, parsers, then, when
from sqlalchemy.orm import Session, sessionmaker

from dsl.durations import parse_duration
from engine.core import Engine
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.metrics import Metrics
from engine.ports import ManualClock
from engine.store import RedisStore
from flowtest.runner import FLOWS_DIR_VARIABLE
from flowtest.simulator import Conversation, Simulator, chat_data


class World:
    """One scenario's Parley: engine, chat layer, flows, clock and the visitor's conversation."""

    def __init__(self, client: redis.Redis, workdir: Path, sessions: sessionmaker[Session]) -> None:
        self.redis = client
        self.workdir = workdir
        self.keys = Keys()
        self.clock = ManualClock()
        self.flows = FlowRegistry(client, self.keys)
        self.engine = Engine(RedisStore(client, self.keys), self.flows, self.clock)
        self.sim = Simulator(self.engine, self.clock, Conversation(), sessions, client, self.keys)
        self.loaded: list[Path] = []

    @property
    def conversation(self) -> Conversation:
        """The visitor's conversation."""
        return self.sim.conversation

    def load(self, path: Path | None = None) -> None:
        """Load one more flow file (or, with none, the same files again) as a reload does:
        every file of the scenario together. A flow that does not check fails it."""
        if path is not None:
            self.loaded.append(path)
        report = self.flows.load(self.loaded)
        assert not report.failed(), "\n".join(d.headline() for d in report.diagnostics)

    def restart(self) -> None:
        """Start a new engine on the same Redis, as a restarted Parley would."""
        self.flows = FlowRegistry(self.redis, self.keys)
        self.flows.start(self.loaded)
        self.engine = Engine(RedisStore(self.redis, self.keys), self.flows, self.clock)
        self.sim.engine = self.engine


@pytest.fixture
def parley_world(redis_client: redis.Redis, tmp_path: Path) -> Iterator[World]:
    """A fresh Parley for one scenario, on an emptied Redis and a chat database of its own."""
    with chat_data(tmp_path) as sessions:
        yield World(redis_client, tmp_path, sessions)


def _flows_dir() -> Path:
    return Path(os.environ.get(FLOWS_DIR_VARIABLE, "flows"))


# -- Given: flows, visitors, conversations ----------------------------------------------


@given(parsers.parse('the flow "{flow_id}"'))
def the_flow(parley_world: World, flow_id: str) -> None:
    """Load a flow by id from the flows folder (`flows/`, or `$PARLEY_FLOWS`)."""
    matches = [p for p in sorted(_flows_dir().glob("*.y*ml")) if _declares(p, flow_id)]
    assert matches, f"no flow with id {flow_id!r} in {_flows_dir()}"
    parley_world.load(matches[0])


def _declares(path: Path, flow_id: str) -> bool:
    return (
        re.search(rf"^id:\s*['\"]?{re.escape(flow_id)}['\"]?\s*$", path.read_text(), re.M)
        is not None
    )


@given("the flow:")
def the_inline_flow(parley_world: World, docstring: str) -> None:
    """Load a flow written in the scenario itself."""
    path = parley_world.workdir / f"flow-{len(parley_world.loaded)}.yaml"
    path.write_text(docstring + "\n", encoding="utf-8")
    parley_world.load(path)


@given(
    parsers.re(r'an? (?P<kind>new|returning) visitor(?: "(?P<name>[^"]+)")? on (?P<channel>\w+)')
)
def a_visitor(parley_world: World, kind: str, name: str | None, channel: str) -> None:
    """Who the visitor is: new (first conversation) or returning, and on which channel."""
    conversation = parley_world.conversation
    conversation.is_new = kind == "new"
    conversation.channel = channel
    if name:
        conversation.contact["name"] = name


@given(parsers.parse('the visitor has the tag "{tag}"'))
def visitor_tag(parley_world: World, tag: str) -> None:
    """Tag the visitor's contact."""
    parley_world.conversation.contact.setdefault("tags", []).append(tag)


@given(parsers.parse('the visitor\'s remark name is "{name}"'))
def remark_name(parley_world: World, name: str) -> None:
    """Give the contact a remark name (it becomes the display name)."""
    parley_world.conversation.contact["remark_name"] = name


@given(parsers.re(r"the conversation is (?P<state>hosted|assigned|unassigned)"))
def conversation_state(parley_world: World, state: str) -> None:
    """Set the conversation's state before anything happens."""
    conversation = parley_world.conversation
    conversation.hosting = state == "hosted"
    conversation.assignee = "agent@example.com" if state == "assigned" else None


# -- When: what people and time do --------------------------------------------------------


@when("the conversation starts")
@given("the conversation started")
def conversation_starts(parley_world: World) -> None:
    """The visitor opens a conversation."""
    parley_world.sim.emit("conversation.started")


@when(parsers.parse('the visitor says "{text}"'))
def visitor_says(parley_world: World, text: str) -> None:
    """The visitor writes a message."""
    parley_world.sim.emit("message.received", text=text)


@when(parsers.re(r'the agent replies(?: "(?P<text>[^"]*)")?(?P<off> off-platform)?$'))
def agent_replies(parley_world: World, text: str | None, off: str | None) -> None:
    """An agent replies, in Parley or (off-platform) from the channel's own app."""
    parley_world.sim.emit("message.sent", sender="agent", text=text or "", off_platform=bool(off))


@when(parsers.parse('the visitor clicks "{label}"'))
def visitor_clicks(parley_world: World, label: str) -> None:
    """The visitor clicks a button of the last message that had one with this label."""
    parley_world.sim.click(label)


@when(parsers.parse('the visitor submits "{text}"'))
def visitor_submits(parley_world: World, text: str) -> None:
    """The visitor fills in a form, such as a promo card's email field."""
    parley_world.sim.emit("input.submitted", text=text)


@when(parsers.re(r"(?P<amount>\d+) (?P<unit>second|minute|hour|day)s? pass(?:es)?"))
def time_passes(parley_world: World, amount: str, unit: str) -> None:
    """Move the virtual clock; timers fire at their due times on the way."""
    parley_world.sim.advance(parse_duration(f"{amount}{unit[0]}"))


@when(parsers.re(r"an agent takes the conversation"))
def agent_takes(parley_world: World) -> None:
    """An agent is assigned and bot hosting is off."""
    parley_world.sim.take()


@when(parsers.re(r"bot hosting is turned (?P<switch>on|off)"))
def hosting_switched(parley_world: World, switch: str) -> None:
    """Someone switches bot hosting for the conversation."""
    parley_world.sim.switch_hosting(switch == "on")


@when("the conversation ends")
def conversation_ends(parley_world: World) -> None:
    """The conversation is ended."""
    parley_world.sim.end()


@when("the flow is changed to:")
def flow_changed(parley_world: World, docstring: str) -> None:
    """Edit the last flow loaded and reload it, as a deploy of a new version would."""
    parley_world.loaded[-1].write_text(docstring + "\n", encoding="utf-8")
    parley_world.load()


@when("the same event is delivered again")
def same_event_again(parley_world: World) -> None:
    """The last event arrives a second time (channels retry)."""
    parley_world.sim.redeliver()


@when("Parley restarts")
def parley_restarts(parley_world: World) -> None:
    """A new engine process takes over; state and timers are read back from Redis."""
    parley_world.restart()


# -- Then: what the visitor saw, what Parley did ------------------------------------------


def _texts(world: World) -> list[str]:
    return [m.get("text", "") for m in world.conversation.sent]


@then(parsers.parse('the visitor is sent "{text}"'))
def visitor_is_sent(parley_world: World, text: str) -> None:
    """Some message to the visitor has exactly this text."""
    assert text in _texts(parley_world), f"sent: {_texts(parley_world)}"


@then(parsers.parse('the visitor is not sent "{text}"'))
def visitor_is_not_sent(parley_world: World, text: str) -> None:
    """No message to the visitor has this text."""
    assert text not in _texts(parley_world), f"sent: {_texts(parley_world)}"


@then("the visitor is sent nothing")
def visitor_sent_nothing(parley_world: World) -> None:
    """Nothing at all was sent to the visitor."""
    assert parley_world.conversation.sent == [], f"sent: {parley_world.conversation.sent}"


@then(parsers.re(r"the visitor was sent (?P<count>\d+) messages?"))
def visitor_sent_count(parley_world: World, count: str) -> None:
    """How many messages the visitor received."""
    assert len(parley_world.conversation.sent) == int(count), f"sent: {_texts(parley_world)}"


@then(parsers.parse('the visitor sees the buttons "{labels}"'))
def visitor_sees_buttons(parley_world: World, labels: str) -> None:
    """The last message has these buttons, in this order (labels separated by `", "`)."""
    last = parley_world.conversation.sent[-1]
    assert [b["label"] for b in last.get("buttons", [])] == labels.split('", "')


@then(parsers.parse('the visitor is asked "{text}"'))
def visitor_is_asked(parley_world: World, text: str) -> None:
    """The last thing sent is a question with this text."""
    last = parley_world.conversation.sent[-1]
    assert (last["kind"], last["text"]) == ("ask", text), f"last sent: {last}"


@then(parsers.parse('the contact is tagged "{tag}"'))
def contact_tagged(parley_world: World, tag: str) -> None:
    """The contact carries the tag."""
    assert tag in parley_world.conversation.contact.get("tags", [])


@then(parsers.parse('the contact\'s {name} is "{value}"'))
def contact_field(parley_world: World, name: str, value: str) -> None:
    """A contact field has this value (email, phone, remark_name)."""
    assert parley_world.conversation.contact.get(name.replace(" ", "_")) == value


@then(parsers.re(r"bot hosting is (?P<switch>on|off)"))
def hosting_is(parley_world: World, switch: str) -> None:
    """Whether bot hosting is on for the conversation."""
    assert parley_world.conversation.hosting is (switch == "on")


@then("the conversation is unassigned")
def unassigned(parley_world: World) -> None:
    """No agent has the conversation."""
    assert parley_world.conversation.assignee is None


@then(parsers.parse("the conversation is assigned to {whom}"))
def assigned_to(parley_world: World, whom: str) -> None:
    """The conversation's assignee, such as `"ana@example.com"`."""
    assert parley_world.conversation.assignee == whom.strip('"')


@then(parsers.parse('an email "{template}" is sent to "{address}"'))
def email_sent(parley_world: World, template: str, address: str) -> None:
    """The flow asked for an email from a template to an address."""
    emails = [d for d in parley_world.conversation.done if d["kind"] == "email"]
    assert {"template": template, "to": address} in [
        {"template": e["template"], "to": e["to"]} for e in emails
    ], f"emails: {emails}"


@then(parsers.parse('a webhook to "{url}" is sent with the body {body}'))
def webhook_sent(parley_world: World, url: str, body: str) -> None:
    """The flow called a webhook with this JSON body."""
    hooks = [d for d in parley_world.conversation.done if d["kind"] == "webhook"]
    assert {"url": url, "body": json.loads(body)} in [
        {"url": h["url"], "body": h["body"]} for h in hooks
    ], f"webhooks: {hooks}"


@then(parsers.parse('the trace of flow "{flow_id}" says "{text}"'))
def trace_says(parley_world: World, flow_id: str, text: str) -> None:
    """A trace line of the visitor, in this flow, says exactly this."""
    lines = _trace_lines(parley_world, flow_id)
    assert text in [line["what"] for line in lines], f"trace: {lines}"


def _trace_lines(world: World, flow_id: str) -> list[dict[str, Any]]:
    records = world.engine.store.traces(world.conversation.visitor_id)
    return [
        line
        for record in reversed(records)
        for line in record["lines"]
        if line["path"].split(":", 1)[0] == flow_id
    ]


@then(
    parsers.parse(
        'the funnel of flow "{flow_id}" shows {triggered:d} triggered, '
        "{engaged:d} engaged and {completed:d} completed"
    )
)
def funnel_shows(
    parley_world: World, flow_id: str, triggered: int, engaged: int, completed: int
) -> None:
    """The flow's unique-visitor funnel."""
    funnel = Metrics(parley_world.redis, parley_world.keys).funnel(flow_id)
    assert (funnel.triggered, funnel.engaged, funnel.completed) == (
        triggered,
        engaged,
        completed,
    ), funnel


@then(parsers.parse('the funnel of flow "{flow_id}" shows {count:d} completed after engaging'))
def funnel_completed_engaged(parley_world: World, flow_id: str, count: int) -> None:
    """Visitors who completed the flow after engaging with it."""
    assert Metrics(parley_world.redis, parley_world.keys).funnel(flow_id).completed_engaged == count


@then(parsers.re(r'the flow "(?P<flow_id>[^"]+)" was triggered (?P<count>\d+) times?'))
def trigger_count(parley_world: World, flow_id: str, count: str) -> None:
    """How many times the flow's trigger fired for the visitor (re-triggers not included)."""
    assert Metrics(parley_world.redis, parley_world.keys).funnel(flow_id).triggers == int(count)
