"""What a website visitor does through the widget: start a conversation, write, click, fill.

Visitors are not members: the widget knows a visitor by the token it got when their first
conversation started. Each action records the fact and tells the engine (`chat.news`) in
the caller's transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.conversations import Recorded, open_conversation, record_message
from chat.errors import Conflict, NotFound
from chat.models import ChannelIdentity, Contact, Conversation, Workspace
from chat.news import tell
from engine.events import EventType


def start(
    session: Session, token: str | None, name: str | None, at: datetime
) -> tuple[Conversation, str, bool]:
    """The visitor's ongoing widget conversation (a new visitor gets a token), and whether it
    started now."""
    contact, token = _visitor(session, token, name, at)
    conversation, started = open_conversation(session, contact, "widget", at)
    if started:
        tell(session, conversation, "conversation.started", at, f"widget:{conversation.id}")
    return conversation, token, started


def write(
    session: Session,
    token: str,
    conversation_id: int,
    text: str,
    at: datetime,
    client_id: str | None = None,
) -> Recorded:
    """The visitor writes `text` in their ongoing conversation. A message sent again with
    the `client_id` of one already stored (the client retried a call whose answer it never
    got) is that message, not a new one."""
    conversation = _ongoing(own_conversation(session, token, conversation_id))
    recorded = record_message(
        session,
        conversation,
        sender="visitor",
        text=text,
        at=at,
        client_id=client_id,
    )
    if recorded.created:
        event_id = f"widget-message:{recorded.message.id}"
        tell(session, conversation, "message.received", at, event_id, text=text)
    return recorded


def act(
    session: Session, token: str, conversation_id: int, kind: EventType, at: datetime, **fields: str
) -> None:
    """The visitor clicks a button (`button.clicked`) or fills a form (`input.submitted`)."""
    conversation = _ongoing(own_conversation(session, token, conversation_id))
    tell(session, conversation, kind, at, f"widget:{secrets.token_hex(8)}", **fields)


def own_conversation(session: Session, token: str, conversation_id: int) -> Conversation:
    """The conversation, if the visitor `token` belongs to its contact."""
    identity = _identity(session, token)
    conversation = session.get(Conversation, conversation_id)
    if identity is None or conversation is None or conversation.contact_id != identity.contact_id:
        raise NotFound("no such conversation for this visitor", field="conversation_id")
    return conversation


def _visitor(
    session: Session, token: str | None, name: str | None, at: datetime
) -> tuple[Contact, str]:
    if token is not None:
        identity = _identity(session, token)
        if identity is None:
            raise NotFound("no visitor with this token", field="visitor_token")
        return identity.contact, token
    workspace = session.scalars(select(Workspace).order_by(Workspace.id)).first()
    if workspace is None:
        raise Conflict("this Parley has no workspace yet")
    contact = Contact(workspace_id=workspace.id, name=name, first_seen_at=at, last_seen_at=at)
    token = secrets.token_urlsafe(24)
    contact.identities.append(
        ChannelIdentity(channel="widget", account="widget", external_id=token)
    )
    session.add(contact)
    session.flush()
    return contact, token


def _ongoing(conversation: Conversation) -> Conversation:
    if conversation.status == "ended":
        raise Conflict("this conversation has ended; start a new one", field="conversation_id")
    return conversation


def _identity(session: Session, token: str) -> ChannelIdentity | None:
    return session.scalars(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == "widget",
            ChannelIdentity.account == "widget",
            ChannelIdentity.external_id == token,
        )
    ).first()
