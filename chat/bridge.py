"""Between the chat layer and the engine, in one direction each way.

Chat facts become engine events in `chat.news`; the engine's commands come back on its
outbox streams and are carried out here, on the chat data, once each (`CommandExecutor`).
Carrying out a command may itself be news for the engine (a bot message was sent, hosting
was switched): those events are published with ids derived from the command, so a command
redelivered after a crash publishes nothing new.
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
from channels.streams import ShardedQueue
from chat.contacts import update_contact
from chat.conversations import record_message
from chat.errors import ChatError
from chat.models import Conversation, ExecutedCommand, Member, utcnow
from chat.news import event_for
from chat.notifications import queue_notifications
from engine.events import EventType
from engine.keys import Keys
from engine.worker import EventStream

GROUP = "parley-chat"
CLAIM_IDLE_MS = 30_000  # a command pending this long belonged to a worker that died
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
    ) -> None:
        self.sessions = sessions
        self.now = now  # the service's clock: a virtual one in tests and simulations
        self.redis = client
        self.keys = keys
        self.name = name
        self.mailer = mailer
        self.email_templates = email_templates
        self.events = EventStream(client, keys)
        self.outbox = ShardedQueue(
            client, keys.commands, keys.dead_letters, keys.shards, GROUP, CLAIM_IDLE_MS
        )
        self.outbox.ensure_group()

    def run_once(self, count: int = 100) -> int:
        """Carry out the commands waiting in every outbox, and those a dead worker left."""
        entries = self.outbox.take(self.name, count)
        for shard, entry_id, fields in entries:
            self._carry_out(shard, entry_id, fields)
        return len(entries)

    def _carry_out(self, shard: int, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        # A command that cannot be carried out is set aside with the reason; a database or
        # Redis failure propagates, leaving the command pending to be claimed again later.
        try:
            command = json.loads(fields[b"command"])
            with logs.visitor(command.get("visitor_id")):
                self.execute(command)
        except (ValueError, KeyError, TypeError, AttributeError, ChatError) as err:
            self.outbox.set_aside(shard, fields, str(err))
        self.outbox.ack(shard, entry_id)

    def execute(self, command: dict[str, Any]) -> None:
        """Carry out one command (once, whatever the deliveries) and publish its news."""
        at = self.now()
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, int(command["conversation_id"]))
            if conversation is None:
                log.warning("command %s for a conversation that is gone", command["key"])
                return
            first_time = session.get(ExecutedCommand, command["key"]) is None
            # a redelivered command changes nothing (an old hosting switch must not undo a
            # later one); it only publishes its news again, which the engine recognises
            kind = _NEWS.get(command["kind"])
            if first_time:
                handler = _HANDLERS.get(command["kind"], _not_carried_out)
                handler(session, conversation, command, at)
                session.add(ExecutedCommand(key=command["key"]))
            news = None
            if kind is not None:
                news = event_for(
                    conversation, kind, at, f"{command['key']}:news", **_news_fields(command)
                )
            facts = email_facts(conversation, at)
        if news is not None:
            self.events.publish(news)
        # after the commit: no network wait holds the database; at most once per command
        if first_time and command["kind"] == "webhook":
            call_webhook(command)
        if first_time and command["kind"] == "email":
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
    if command["kind"] in _MESSAGES:
        return {"sender": "bot", "text": command["args"].get("text", ""), "flow": command["flow"]}
    return {}


# A command's handler: the session, its conversation, the command, and the time it is carried out.
Handler = Callable[[Session, Conversation, dict[str, Any], datetime], None]
_MESSAGES = ("say", "ask", "promo_card")


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


def _not_carried_out(
    session: Session, conversation: Conversation, command: dict[str, Any], at: datetime
) -> None:
    # the email adapter arrives with the notification work (SMTP); until then say so
    log.warning("no adapter carries out %s commands yet (%s)", command["kind"], command["key"])


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
