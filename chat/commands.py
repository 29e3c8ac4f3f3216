"""What the chat layer does with each kind of engine command: one entry per kind.

An entry says how the command is carried out on the chat data (in the command's own
transaction), what the engine hears once it is (`news`), and what, if anything, leaves
Parley after the commit (`deliver`, through the `Deliveries` port). The executor
(chat/bridge.py) and `parley test`'s simulator both carry commands out through this table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.contacts import update_contact
from chat.conversations import record_message
from chat.errors import ChatError
from chat.models import Conversation, Member
from chat.notifications import queue_notifications
from chat.ports import Deliveries
from engine.events import EventType

log = logging.getLogger(__name__)

Command = Mapping[str, Any]
# How a kind is carried out: the session, its conversation, the command, and the time.
CarryOut = Callable[[Session, Conversation, Command, datetime], None]
# What leaves Parley after the commit: the deliveries, the command, the contact's facts.
Deliver = Callable[[Deliveries, Command, Mapping[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class CommandKind:
    """One kind of engine command, as the chat layer carries it out."""

    carry_out: CarryOut
    news: EventType | None = None  # what the engine hears once it is carried out
    deliver: Deliver | None = None  # what then leaves Parley, after the commit


def _message(session: Session, conversation: Conversation, command: Command, at: datetime) -> None:
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


def _tags(session: Session, conversation: Conversation, command: Command, at: datetime) -> None:
    tags = conversation.contact.tags
    for tag in command["args"]["tags"]:
        if command["kind"] == "tag" and tag not in tags:
            tags.append(tag)
        elif command["kind"] == "untag" and tag in tags:
            tags.remove(tag)


def _set_field(
    session: Session, conversation: Conversation, command: Command, at: datetime
) -> None:
    name = command["args"]["field"].split(".", 1)[1]
    value = command["args"]["value"]
    try:
        update_contact(
            session, conversation.contact, **{name: None if value is None else str(value)}
        )
    except ChatError as err:  # a visitor's answer the chat data refuses stays unsaved, logged
        log.warning("flow %s could not set contact.%s: %s", command["flow"], name, err)


def _assign(session: Session, conversation: Conversation, command: Command, at: datetime) -> None:
    agent = command["args"]["agent"]
    member = _member(session, conversation.workspace_id, agent)
    if member is None:
        log.warning("flow %s assigns to %r, who is no member here", command["flow"], agent)
        return
    conversation.assignee_id = member.id


def _member(session: Session, workspace_id: int, agent: object) -> Member | None:
    """The member a flow names, by email or by id, in the conversation's workspace."""
    text = str(agent).strip()
    found = select(Member).where(Member.workspace_id == workspace_id)
    if text.isascii() and text.isdigit() and len(text) <= 16:
        return session.scalars(found.where(Member.id == int(text))).first()
    return session.scalars(found.where(func.lower(Member.email) == text.lower())).first()


def _notify(session: Session, conversation: Conversation, command: Command, at: datetime) -> None:
    due = datetime.fromtimestamp(float(command["args"]["due"]), UTC)
    queue_notifications(session, conversation, due)


def _hosting(session: Session, conversation: Conversation, command: Command, at: datetime) -> None:
    conversation.hosting = bool(command["args"]["on"])


def _end(session: Session, conversation: Conversation, command: Command, at: datetime) -> None:
    if conversation.status != "ended":
        conversation.status = "ended"
        conversation.ended_at = at


def _nothing(session: Session, conversation: Conversation, command: Command, at: datetime) -> None:
    """Nothing on the chat data: the command is all delivery, after the commit."""


def _email(deliveries: Deliveries, command: Command, facts: Mapping[str, Any]) -> bool:
    return deliveries.email(command, facts)


def _webhook(deliveries: Deliveries, command: Command, facts: Mapping[str, Any]) -> bool:
    return deliveries.webhook(command)


_BOT_MESSAGE = CommandKind(_message, news="message.sent")
KINDS: dict[str, CommandKind] = {
    "say": _BOT_MESSAGE,
    "ask": _BOT_MESSAGE,
    "promo_card": _BOT_MESSAGE,
    "tag": CommandKind(_tags),
    "untag": CommandKind(_tags),
    "set": CommandKind(_set_field),
    "assign": CommandKind(_assign, news="conversation.assigned"),  # with the state as it is
    "hosting": CommandKind(_hosting, news="conversation.hosting_changed"),
    "end_conversation": CommandKind(_end, news="conversation.ended"),
    "notify": CommandKind(_notify),
    "email": CommandKind(_nothing, deliver=_email),
    "webhook": CommandKind(_nothing, deliver=_webhook),
}
