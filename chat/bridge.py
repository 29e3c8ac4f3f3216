"""Between the chat layer and the engine, in one direction each way.

Chat facts become engine events in `chat.news`; the engine's commands come back on its
outbox streams and are carried out here, on the chat data, once each and in order per
visitor (`CommandExecutor`, on the shards its worker leases). Carrying out a command may
itself be news for the engine (a bot message was sent, hosting was switched): that event
is told in the command's own transaction, with an id derived from the command.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import logs
from channels.email import EmailFailed, Mailer, render_email
from chat.contacts import update_contact
from chat.conversations import record_message
from chat.errors import ChatError
from chat.models import Conversation, ExecutedCommand, Member, utcnow
from chat.news import event_for, tell
from chat.notifications import queue_notifications
from chat.outbox import EventOutbox
from engine.effects import MESSAGE_COMMANDS
from engine.events import EventType
from engine.keys import Keys
from engine.streams import ShardedQueue, ShardLeases
from engine.worker import EventStream

GROUP = "parley-chat"
log = logging.getLogger(__name__)


class CommandExecutor:
    """Consumes the engine's commands and carries each out once on the chat data."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        keys: Keys,
        name: str,
        *,
        mailer: Mailer | None = None,
        email_templates: Path = Path("emails"),
        now: Callable[[], datetime] = utcnow,
        leases: ShardLeases | None = None,
    ) -> None:
        self.sessions = sessions
        self.now = now  # the service's clock: a virtual one in tests and simulations
        self.name = name
        self.mailer = mailer
        self.email_templates = email_templates
        self.leases = leases or ShardLeases(client, keys, name, GROUP)
        self.news = EventOutbox(sessions, EventStream(client, keys).publish, now)
        self.queue = ShardedQueue(client, keys.commands, keys.dead_letters, GROUP)
        self.queue.ensure_group(range(keys.shards))

    def run_once(self, count: int = 100) -> int:
        """Carry out the next commands of the leased shards, in order, with those a worker
        that died left unacknowledged first."""
        entries = self.queue.take(self.name, count, self.leases.shards())
        for shard, entry_id, fields in entries:
            self._carry_out(shard, entry_id, fields)
        return len(entries)

    def _carry_out(self, shard: int, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        # A command that cannot be carried out is set aside with the reason; a database or
        # Redis failure propagates, leaving the command pending, to be taken again first.
        try:
            command = json.loads(fields[b"command"])
            with logs.visitor(command.get("visitor_id")):
                self.execute(command)
        except (ValueError, KeyError, TypeError, AttributeError, ChatError) as err:
            self.queue.set_aside(shard, fields, str(err))
        self.queue.ack([(shard, entry_id)])

    def execute(self, command: dict[str, Any]) -> None:
        """Carry out one command, once whatever the deliveries, and tell its news."""
        at = self.now()
        with self.news.transaction() as session:
            conversation = session.get(Conversation, int(command["conversation_id"]))
            if conversation is None:
                log.warning("command %s for a conversation that is gone", command["key"])
                return
            if session.get(ExecutedCommand, command["key"]) is not None:
                return  # carried out before, its news told in the same transaction
            # an unknown kind is refused before it is recorded as carried out
            handler = _HANDLERS[command["kind"]]
            handler(session, conversation, command, at)
            session.add(ExecutedCommand(key=command["key"]))
            kind = _NEWS.get(command["kind"])
            if kind is not None:
                news_id = f"{command['key']}:news"
                tell(session, conversation, kind, at, news_id, **_news_fields(command))
            facts = email_facts(conversation, at)
        # after the commit: no network wait holds the database; at most once per command
        if command["kind"] == "webhook":
            call_webhook(command)
        if command["kind"] == "email":
            self.send_email(command, facts)

    def send_email(self, command: dict[str, Any], facts: dict[str, Any]) -> bool:
        """Send a flow's email from its template; failures are logged, never fatal."""
        args = command["args"]
        if self.mailer is None:
            log.warning(
                "flow %s: email %r not sent, no SMTP settings", command["flow"], args["template"]
            )
            return False
        try:
            now = self.now().timestamp()
            text, html = render_email(self.email_templates, args["template"], facts, now)
            subject = args.get("subject") or args["template"].replace("-", " ").capitalize()
            self.mailer.send(args["to"], subject, text, html)
        except EmailFailed as err:
            log.warning("flow %s: %s", command["flow"], err)
            return False
        return True


def email_facts(conversation: Conversation, at: datetime) -> dict[str, Any]:
    """What an email template may read: the contact and the conversation, as flows do."""
    event = event_for(conversation, "message.sent", at, "email-facts")
    return {
        "contact": {**event.contact, "channel": event.channel},
        "conversation": {
            "id": event.conversation_id,
            "state": event.state,
            "status": conversation.status,
            "tags": list(event.tags),
        },
        "visitor": {"id": event.visitor_id, "is_new": event.is_new},
        "message": {"text": None},
        "vars": {},
    }


def call_webhook(command: dict[str, Any]) -> bool:
    """POST a flow's webhook body as JSON; at most once per command, failures are logged."""
    args = command["args"]
    body = json.dumps(
        {
            "flow": command["flow"],
            "visitor_id": command["visitor_id"],
            "conversation_id": command["conversation_id"],
            "data": args["body"],
        }
    )
    request = urllib.request.Request(
        args["url"],
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Parley"},
    )
    try:
        with urllib.request.urlopen(request, timeout=args["timeout"]) as response:
            status: int = response.status
            return 200 <= status < 300
    except (OSError, http.client.HTTPException, ValueError) as err:  # URLError is an OSError
        log.warning("webhook %s of flow %s failed: %s", args["url"], command["flow"], err)
        return False


def _news_fields(command: dict[str, Any]) -> dict[str, Any]:
    if command["kind"] in MESSAGE_COMMANDS:
        text = command["args"].get("text", "")
        return {"sender": "bot", "text": text, "flow": command["flow"], "command": command["key"]}
    return {}


# A command's handler: the session, its conversation, the command, and the time it is carried out.
Handler = Callable[[Session, Conversation, dict[str, Any], datetime], None]


def _message(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    args = command["args"]
    record_message(
        session,
        conversation,
        sender="bot",
        text=args.get("text", ""),
        flow_id=command["flow"],
        attachments=[{"type": command["kind"], **args}],
        at=at,
    )


def _tags(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    tags = conversation.contact.tags
    for tag in command["args"]["tags"]:
        if command["kind"] == "tag" and tag not in tags:
            tags.append(tag)
        elif command["kind"] == "untag" and tag in tags:
            tags.remove(tag)


def _set_field(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    name = command["args"]["field"].split(".", 1)[1]
    value = command["args"]["value"]
    try:
        update_contact(
            session, conversation.contact, **{name: None if value is None else str(value)}
        )
    except ChatError as err:  # a visitor's answer the chat data refuses stays unsaved, logged
        log.warning("flow %s could not set contact.%s: %s", command["flow"], name, err)


def _assign(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    agent = command["args"].get("agent")
    member = _member(session, conversation.workspace_id, agent) if agent else None
    if member is not None:
        conversation.assignee_id = member.id
        return
    if agent:
        log.warning("flow %s assigns to %r, who is no member here", command["flow"], agent)
        return
    # Teams are not modelled yet: the team goes on the conversation as a tag `team:<name>`
    # so agents can filter on it, and the conversation stays unassigned.
    tag = f"team:{command['args'].get('team')}"
    if tag not in conversation.tags:
        conversation.tags.append(tag)


def _member(session: Session, workspace_id: int, agent: object) -> Member | None:
    """The member a flow names, by email or by id, in the conversation's workspace."""
    text = str(agent).strip()
    found = select(Member).where(Member.workspace_id == workspace_id)
    if text.isascii() and text.isdigit() and len(text) <= 16:
        return session.scalars(found.where(Member.id == int(text))).first()
    return session.scalars(found.where(func.lower(Member.email) == text.lower())).first()


def _notify(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    due = datetime.fromtimestamp(float(command["args"]["due"]), UTC)
    queue_notifications(session, conversation, due)


def _hosting(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    conversation.hosting = bool(command["args"]["on"])


def _end(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    if conversation.status != "ended":
        conversation.status = "ended"
        conversation.ended_at = at


def _after_commit(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    """Carried out once the transaction has committed (see `CommandExecutor.execute`)."""


# What the engine hears after each kind of command is carried out.
_NEWS: dict[str, EventType] = {
    "say": "message.sent",
    "ask": "message.sent",
    "promo_card": "message.sent",
    "assign": "conversation.assigned",  # carries the state as it now is, assigned or not
    "hosting": "conversation.hosting_changed",
    "end_conversation": "conversation.ended",
}


_HANDLERS: dict[str, Handler] = {
    "say": _message,
    "ask": _message,
    "promo_card": _message,
    "tag": _tags,
    "untag": _tags,
    "set": _set_field,
    "assign": _assign,
    "hosting": _hosting,
    "notify": _notify,
    "end_conversation": _end,
    "webhook": _after_commit,
    "email": _after_commit,
}
