"""Chat facts told to the engine: the events flows read, staged in the fact's transaction.

Every front (the JSON API, the console, the widget) changes chat data through the chat
layer's actions, and each action that is news for the flows calls `tell` itself, so the
event is built in one place and written to the outbox (`chat.outbox`) in the same
transaction as the fact it tells.

Each contact's events are numbered (`seq`) in the order their transactions commit: the
number is taken by updating the contact's row, which a concurrent transaction about the
same contact waits for. The engine applies a visitor's events in that order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from chat.models import Contact, Conversation
from chat.outbox import stage
from engine.events import Event, EventType


def visitor_id(contact: Contact) -> str:
    """The engine's id for a contact."""
    return f"contact-{contact.id}"


# What the visitor does that waits for an agent's answer (see docs/notifications.md).
_VISITOR_NEWS = ("message.received", "button.clicked")


def event_for(
    conversation: Conversation, kind: EventType, at: datetime, event_id: str, **fields: Any
) -> Event:
    """An engine event about `conversation`, carrying the facts flows read right now."""
    contact = conversation.contact
    if kind in _VISITOR_NEWS and conversation.workspace.notify_by_email:
        # the waiting streak this message may start is told its length now: a later change
        # of the setting applies to streaks that start afterwards
        fields.setdefault("notify_after", conversation.workspace.notify_after_minutes * 60.0)
    return Event(
        id=event_id,
        type=kind,
        visitor_id=visitor_id(contact),
        conversation_id=str(conversation.id),
        at=at.timestamp(),
        channel=conversation.channel,
        is_new=conversation.is_new_visitor,
        state=conversation.state,
        contact={
            "name": contact.name or "",
            "remark_name": contact.remark_name or "",
            "display_name": contact.display_name(prefer_remark=True),
            "email": contact.email or "",
            "phone": contact.phone or "",
            "tags": list(contact.tags),
        },
        assignee=str(conversation.assignee_id) if conversation.assignee_id else None,
        tags=tuple(conversation.tags),
        **fields,
    )


def tell(
    session: Session,
    conversation: Conversation,
    kind: EventType,
    at: datetime,
    event_id: str,
    **fields: Any,
) -> None:
    """Stage the engine event `kind` about `conversation` in `session`'s transaction, with
    the contact's next event number."""
    seq = next_number(session, conversation.contact_id)
    stage(session, event_for(conversation, kind, at, event_id, seq=seq, **fields))


def tell_forgotten(session: Session, contact: Contact, at: datetime) -> None:
    """Stage the engine's `visitor.forgotten` for a contact deleted in this transaction: it
    comes after everything told about them before, and it carries no facts."""
    event = Event(
        id=f"forget:{contact.id}",
        type="visitor.forgotten",
        visitor_id=visitor_id(contact),
        conversation_id="",
        at=at.timestamp(),
        seq=next_number(session, contact.id),
    )
    stage(session, event)


def next_number(session: Session, contact_id: int) -> int:
    """The contact's next event number, taken by updating its row: a concurrent transaction
    about the same contact waits for this one, so numbers follow the commits' order."""
    seq: int = session.execute(
        update(Contact)
        .where(Contact.id == contact_id)
        .values(event_seq=Contact.event_seq + 1)
        .returning(Contact.event_seq)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return seq
