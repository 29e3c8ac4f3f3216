"""The inbox as a member sees it: the conversation list, one conversation, and the counts.

Every query here starts from `chat.permissions.visible_conversations`, so a member limited to
their own conversations finds nothing else by any filter, id or cursor. Rows are JSON-ready
(ids, ISO 8601 times) and shown the caller's way: the contact's display name follows the
caller's `prefer_remark_name`, and the contact's tags are there only if they `show_visitor_tags`.
What members do to conversations is in `chat.inbox_actions`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import ColumnElement, case, exists, func, select, tuple_, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from chat.errors import NotFound
from chat.models import Channel, Contact, Conversation, Member, Status
from chat.paging import check_limit, decode_position, encode_position
from chat.permissions import visible_conversations
from chat.values import aware_time, clean_tag, one_of, whole_number

_STATUSES: tuple[str, ...] = get_args(Status)
_CHANNELS: tuple[str, ...] = get_args(Channel)
_ROWS = select(Conversation, Contact).join(Contact, Conversation.contact_id == Contact.id)


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One conversation as the list and the detail show it to one member; JSON-ready."""

    id: int
    contact_id: int
    display_name: str
    contact_tags: list[str] | None  # None: the caller chose not to see visitor tags
    channel: str
    status: str
    state: str
    hosting: bool
    assignee_id: int | None
    tags: list[str]
    is_new_visitor: bool
    received_at: str
    ended_at: str | None
    last_activity_at: str
    message_count: int
    visitor_message_count: int
    agent_message_count: int
    first_response_seconds: int | None
    waiting_since: str | None

    def to_json(self) -> dict[str, Any]:
        """The row as a dict of JSON values."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list and the dashboard may be narrowed to; None leaves a filter off."""

    assignee_id: int | None = None
    received_from: datetime | None = None  # inclusive
    received_to: datetime | None = None  # exclusive
    tag: str | None = None  # one of the conversation's tags
    channel: str | None = None


def list_conversations(
    session: Session,
    member: Member,
    *,
    status: str | None = None,
    assignee_id: int | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    tag: str | None = None,
    channel: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ConversationRow], str | None]:
    """A page of the conversations `member` sees, latest activity first, and the next cursor.

    `received_from` is inclusive and `received_to` exclusive; the cursor is None on the last page.
    """
    filters = Filters(assignee_id, received_from, received_to, tag, channel)
    query = _ROWS.where(*_conditions(session, member, filters))
    if status is not None:
        query = query.where(Conversation.status == one_of("status", status, _STATUSES))
    if cursor is not None:
        query = query.where(_after(cursor))
    order = (Conversation.last_activity_at.desc(), Conversation.id.desc())
    found = session.execute(query.order_by(*order).limit(check_limit(limit) + 1)).all()
    rows = [row_for(member, conversation, contact) for conversation, contact in found[:limit]]
    if len(found) <= limit:
        return rows, None
    last = found[limit - 1][0]
    return rows, encode_position(last.last_activity_at, last.id)


def get_conversation(session: Session, member: Member, conversation_id: int) -> ConversationRow:
    """The conversation as `member` sees it; `NotFound` if they may not, existing or not."""
    query = _ROWS.where(Conversation.id == conversation_id, visible_conversations(member))
    found = session.execute(query).one_or_none()
    if found is None:
        raise _not_found(conversation_id)
    return row_for(member, *found)


def find_conversation(session: Session, member: Member, conversation_id: int) -> Conversation:
    """The conversation to act on, if `member` sees it; `NotFound` otherwise."""
    query = select(Conversation).where(
        Conversation.id == conversation_id, visible_conversations(member)
    )
    conversation = session.scalars(query).one_or_none()
    if conversation is None:
        raise _not_found(conversation_id)
    return conversation


def dashboard(
    session: Session,
    member: Member,
    *,
    assignee_id: int | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    tag: str | None = None,
    channel: str | None = None,
) -> dict[str, int]:
    """How many conversations `member` sees, ongoing and ended, counted by one COUNT query."""
    filters = Filters(assignee_id, received_from, received_to, tag, channel)
    ongoing = func.count(case((Conversation.status == "ongoing", 1)))
    query = select(func.count(), ongoing).select_from(Conversation)
    total, ongoing_count = session.execute(
        query.where(*_conditions(session, member, filters))
    ).one()
    return {"ongoing": ongoing_count, "ended": total - ongoing_count, "total": total}


def row_for(member: Member, conversation: Conversation, contact: Contact) -> ConversationRow:
    """The row `member` is shown for `conversation` with its `contact`."""
    return ConversationRow(
        id=conversation.id,
        contact_id=contact.id,
        display_name=contact.display_name(member.prefer_remark_name),
        contact_tags=list(contact.tags) if member.show_visitor_tags else None,
        channel=conversation.channel,
        status=conversation.status,
        state=conversation.state,
        hosting=conversation.hosting,
        assignee_id=conversation.assignee_id,
        tags=list(conversation.tags),
        is_new_visitor=conversation.is_new_visitor,
        received_at=conversation.received_at.isoformat(),
        ended_at=_iso(conversation.ended_at),
        last_activity_at=conversation.last_activity_at.isoformat(),
        message_count=conversation.message_count,
        visitor_message_count=conversation.visitor_message_count,
        agent_message_count=conversation.agent_message_count,
        first_response_seconds=conversation.first_response_seconds,
        waiting_since=_iso(conversation.waiting_since),
    )


def _conditions(session: Session, member: Member, filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE conditions for `filters`, always led by what `member` may see."""
    found = [visible_conversations(member)]
    if filters.assignee_id is not None:
        found.append(Conversation.assignee_id == whole_number("assignee_id", filters.assignee_id))
    found.extend(_received(filters.received_from, filters.received_to))
    if filters.tag is not None:
        found.append(_has_tag(session, clean_tag("tag", filters.tag)))
    if filters.channel is not None:
        found.append(Conversation.channel == one_of("channel", filters.channel, _CHANNELS))
    return found


def _after(cursor: str) -> ColumnElement[bool]:
    # A row comparison, which PostgreSQL serves from the (workspace, activity, id) index; the
    # right side takes the column types, so SQLite compares times stored the same way.
    at, before_id = decode_position(cursor)
    return tuple_(Conversation.last_activity_at, Conversation.id) < (at, before_id)


def _received(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    for field, at in (("received_from", start), ("received_to", end)):
        if at is not None:
            aware_time(field, at)
    if start is not None:
        found.append(Conversation.received_at >= start)
    if end is not None:
        found.append(Conversation.received_at < end)
    return found


def _has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    # JSON lists are searched differently: jsonb containment on PostgreSQL (it can use a GIN
    # index), the json_each table function on SQLite.
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(Conversation.tags, JSONB).contains([tag])
    each = func.json_each(Conversation.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _not_found(conversation_id: int) -> NotFound:
    message = f"there is no conversation {conversation_id} that you can see"
    return NotFound(message, field="conversation_id")
