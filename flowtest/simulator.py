"""Play visitors against flows on a virtual clock, through the real chat layer.

The engine is the real one, on a real Redis, and so is the chat layer around it, on a
SQLite file of the simulation's own: the visitor's messages are recorded and told to the
engine by the chat layer's code, the engine's commands are carried out by the chat layer's
command executor (chat/commands.py), and the news that gives back reaches the engine as in
the service. Only what would leave Parley is kept instead of sent: bot messages stay in the
conversation (nothing goes to Messenger), emails and webhooks are recorded. So what a flow
does under `parley test` is what it does in production. `parley simulate` and the Gherkin
steps use it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chat.bridge import CommandExecutor
from chat.conversations import record_message
from chat.db import make_engine, session_factory, upgrade
from chat.errors import ChatError
from chat.inbox_actions import assign, end_conversation, reply, set_hosting
from chat.members import add_member, create_workspace
from chat.models import Contact, Member, Message, Workspace
from chat.models import Conversation as ConversationRow
from chat.news import tell, visitor_id
from chat.outbox import EventOutbox
from dsl.errors import FlowCheckError
from engine.core import Engine
from engine.effects import MESSAGE_COMMANDS
from engine.events import Event, EventType
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.ports import ManualClock
from engine.redis_server import EmbeddedRedis
from engine.store import RedisStore

AGENT = "agent@example.com"  # the member who takes conversations in a simulation
OWNER = "owner@example.com"  # who acts in the inbox: replies, switches hosting, ends
AGENT_REPLY = "(an agent's reply)"  # the text of a reply the scenario gives none


class Refused(Exception):
    """Something a scenario has a person do that the chat layer refuses, such as an agent's
    reply on Messenger before the visitor has written (Meta allows none)."""


class Kept:
    """Deliveries that send nothing out of Parley: a simulation keeps its emails and webhooks in
    the conversation's `done` list instead of sending them."""

    def email(self, command: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
        """Not sent."""
        return True

    def webhook(self, command: Mapping[str, Any]) -> bool:
        """Not called."""
        return True


@dataclass
class Conversation:
    """The visitor's conversation: who they are before it starts, then what the chat layer
    holds (read back after every step)."""

    visitor_id: str = "visitor-1"
    channel: str = "messenger"
    is_new: bool = True
    contact: dict[str, Any] = field(default_factory=lambda: {"name": "Ana", "tags": []})
    hosting: bool = True
    assignee: str | None = None  # the assignee's email
    status: str = "ongoing"
    sent: list[dict[str, Any]] = field(default_factory=list)  # the bot's messages
    done: list[dict[str, Any]] = field(default_factory=list)  # every other command


class Simulator:
    """Drives one conversation through the chat layer and the engine."""

    def __init__(
        self,
        engine: Engine,
        clock: ManualClock,
        conversation: Conversation,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        keys: Keys,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.conversation = conversation
        self.sessions = sessions
        self._ids = itertools.count(1)
        self._carried_out: set[str] = set()
        self._news: list[Event] = []
        self.last_event: Event | None = None
        self.outbox = EventOutbox(sessions, self._news.append, self.now)
        self.executor = CommandExecutor(
            sessions, client, keys, "simulator", deliveries=Kept(), now=self.now, news=self.outbox
        )
        self._row_id: int | None = None  # the conversation's, once the chat layer holds it

    def now(self) -> datetime:
        """The virtual clock's time."""
        return datetime.fromtimestamp(self.clock.now(), UTC)

    # -- what people do ------------------------------------------------------------------

    def emit(self, kind: EventType, **fields: Any) -> None:
        """Something the visitor does, or an agent's message: recorded and told as the chat
        layer records and tells it, then applied by the engine with all that follows."""
        with self._transaction() as (session, conversation):
            at, event_id = self.now(), f"sim-{next(self._ids)}"
            if kind == "message.sent" and not fields.get("off_platform"):  # in the inbox
                text = fields.get("text") or AGENT_REPLY
                reply(session, self._member(session, OWNER), conversation, text, at)  # tells
            else:
                if kind == "message.received":
                    visitor = fields["text"]
                    record_message(session, conversation, sender="visitor", text=visitor, at=at)
                elif kind == "message.sent":  # from the channel's own app, as its echo says
                    text = fields.get("text") or AGENT_REPLY
                    record_message(
                        session, conversation, sender="agent", text=text, at=at, off_platform=True
                    )
                tell(session, conversation, kind, at, event_id, **fields)
        self._settle()

    def click(self, label: str) -> None:
        """The visitor clicks the button with this label in the last message that had one;
        on Messenger the click is also a message of theirs, as the webhook brings it."""
        payload = next(
            (
                button["payload"]
                for message in reversed(self.conversation.sent)
                for button in message.get("buttons", [])
                if button["label"] == label
            ),
            None,
        )
        if payload is None:
            raise LookupError(f"no button {label!r} was sent; sent: {self.conversation.sent}")
        with self._transaction() as (session, conversation):
            at, event_id = self.now(), f"sim-{next(self._ids)}"
            if conversation.channel == "messenger":
                postback = [{"type": "postback", "payload": payload}]
                record_message(
                    session, conversation, sender="visitor", text=label, at=at, attachments=postback
                )
            tell(session, conversation, "button.clicked", at, event_id, payload=payload)
        self._settle()

    def take(self) -> None:
        """An agent takes the conversation: assigned to them, bot hosting off."""
        with self._transaction() as (session, conversation):
            owner, at = self._member(session, OWNER), self.now()
            set_hosting(session, owner, conversation_ids=[conversation.id], on=False, at=at)
            assign(session, owner, conversation, self._member(session, AGENT).id, at=at)
        self._settle()

    def switch_hosting(self, on: bool) -> None:
        """Someone switches bot hosting for the conversation."""
        with self._transaction() as (session, conversation):
            owner = self._member(session, OWNER)
            set_hosting(session, owner, conversation_ids=[conversation.id], on=on, at=self.now())
        self._settle()

    def end(self) -> None:
        """The conversation is ended."""
        with self._transaction() as (session, conversation):
            end_conversation(session, self._member(session, OWNER), conversation, at=self.now())
        self._settle()

    def redeliver(self) -> None:
        """Deliver the last event again, as a retrying channel would."""
        assert self.last_event is not None, "no event was delivered yet"
        self.engine.handle(self.last_event)
        self._settle()

    def advance(self, seconds: float) -> None:
        """Let time pass, firing each timer at its due time, in order."""
        target = self.clock.now() + seconds
        while (due := self.engine.store.next_due()) is not None and due <= target:
            self.clock.advance(max(due - self.clock.now(), 0))
            self.engine.fire_due_timers()
            self._settle()
        self.clock.advance(target - self.clock.now())

    # -- the chat layer's side -----------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[tuple[Session, ConversationRow]]:
        made_now = self._row_id is None
        try:
            with self.outbox.transaction() as session:
                yield session, self._row(session)
        except ChatError as err:  # as the API or the console would refuse it
            if made_now:  # rolled back with the rest: made again next time
                self._row_id = None
            raise Refused(f"Parley refuses this: {err.message}") from err

    def _row(self, session: Session) -> ConversationRow:
        """The conversation in the chat data; the first time, made from the setup."""
        if self._row_id is not None:
            found = session.get(ConversationRow, self._row_id)
            assert found is not None
            return found
        spec = self.conversation
        workspace = session.scalars(select(Workspace)).one()
        contact = Contact(
            workspace_id=workspace.id,
            name=spec.contact.get("name"),
            remark_name=spec.contact.get("remark_name") or None,
            tags=list(spec.contact.get("tags", [])),
        )
        session.add(contact)
        session.flush()
        if not spec.is_new:  # a returning visitor has had a conversation before
            session.add(_conversation(workspace, contact, spec.channel, "ended", self.now()))
        row = _conversation(workspace, contact, spec.channel, "ongoing", self.now())
        row.hosting, row.is_new_visitor = spec.hosting, spec.is_new
        if spec.assignee is not None:
            row.assignee_id = self._member(session, AGENT).id
        session.add(row)
        session.flush()
        self._row_id = row.id
        spec.visitor_id = visitor_id(contact)
        return row

    def _member(self, session: Session, email: str) -> Member:
        return session.scalars(select(Member).where(Member.email == email)).one()

    def _settle(self) -> None:
        """Apply what the chat layer told, carry out the commands that gives, and so on
        until nothing is left; then read the conversation back."""
        while self._news or self._new_commands():
            while self._news:
                event = self._news.pop(0)
                self.last_event = event
                self.engine.handle(event)
            for command in self._new_commands():
                self._carried_out.add(command["key"])
                self.executor.execute(command)
                if command["kind"] not in MESSAGE_COMMANDS:
                    self.conversation.done.append({"kind": command["kind"], **command["args"]})
        self._read_back()

    def _new_commands(self) -> list[dict[str, Any]]:
        return [c for c in self.engine.store.read_commands() if c["key"] not in self._carried_out]

    def _read_back(self) -> None:
        if self._row_id is None:
            return  # nothing happened in the chat layer yet: the setup is all there is
        with self.sessions() as session:
            row = self._row(session)
            spec, contact = self.conversation, row.contact
            spec.hosting, spec.status = row.hosting, row.status
            assignee = session.get(Member, row.assignee_id) if row.assignee_id else None
            spec.assignee = assignee.email if assignee else None
            spec.contact = {
                "name": contact.name,
                "remark_name": contact.remark_name,
                "email": contact.email,
                "phone": contact.phone,
                "tags": list(contact.tags),
            }
            bots = session.scalars(
                select(Message)
                .where(Message.conversation_id == row.id, Message.sender == "bot")
                .order_by(Message.id)
            )
            spec.sent = [_sent(message.attachments[0]) for message in bots]


def _conversation(
    workspace: Workspace, contact: Contact, channel: str, status: str, at: datetime
) -> ConversationRow:
    return ConversationRow(
        workspace_id=workspace.id,
        contact=contact,
        channel=channel,
        status=status,
        is_new_visitor=status == "ended",  # the earlier one was their first
        received_at=at,
        last_activity_at=at,
        ended_at=at if status == "ended" else None,
    )


def _sent(attachment: Mapping[str, Any]) -> dict[str, Any]:
    """A bot message as the simulation shows it: its command kind and arguments."""
    found = dict(attachment)
    return {"kind": found.pop("type"), **found}


@contextlib.contextmanager
def chat_data(folder: Path) -> Iterator[sessionmaker[Session]]:
    """A chat database of the simulation's own, in `folder`: one workspace, its owner and
    the agent who takes conversations (a copy of one migrated once per process)."""
    path = folder / "chat.sqlite"
    shutil.copyfile(_migrated(), path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@functools.cache
def _migrated() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="parley-sim-db-", dir="/tmp"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    url = f"sqlite:///{folder / 'chat.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            workspace, _, _ = create_workspace(session, "Simulation", OWNER, "Owner")
            add_member(session, workspace, AGENT, "Agent", "agent")
    finally:
        engine.dispose()
    return folder / "chat.sqlite"


@contextlib.contextmanager
def simulation(flow_paths: list[Path], conversation: Conversation) -> Iterator[Simulator]:
    """A simulator on a private, throw-away Redis and chat database, the given flows loaded."""
    folder = Path(tempfile.mkdtemp(prefix="parley-sim-", dir="/tmp"))
    try:
        with EmbeddedRedis(folder) as server, chat_data(folder) as sessions:
            client = server.client()
            keys = Keys()
            flows = FlowRegistry(client, keys)
            report = flows.load(flow_paths)
            if report.failed():
                raise FlowCheckError(report.diagnostics)
            clock = ManualClock()
            engine = Engine(RedisStore(client, keys), flows, clock)
            yield Simulator(engine, clock, conversation, sessions, client, keys)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
