"""The console inbox's queries: a tab of conversations with their last messages, and tab counts.

A tab narrows what `member` sees (`chat.permissions.visible_conversations`, always first) to
their own conversations ("mine"), to the ones nobody is assigned ("unassigned", the bot's
among them) or to none ("all", offered only to members who see every conversation). Rows are
`chat.inbox.row_for` rows, so names and tags follow the member's list settings; each comes
with its last message, how many visitor messages wait for a human reply, and who has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select, true, tuple_
from sqlalchemy.orm import Session

from chat.inbox import ConversationRow, row_for
from chat.models import Contact, Conversation, Member, Message
from chat.paging import check_limit, decode_position, encode_position
from chat.permissions import VIEW_ALL, visible_conversations

TABS = ("mine", "unassigned", "all")
STATUSES = ("ongoing", "ended")


@dataclass(frozen=True, slots=True)
class LastMessage:
    """The latest message of a conversation, as its preview shows it."""

    sender: str  # visitor, agent, bot or system
    member_id: int | None  # the agent who wrote it, for an agent's message
    author: str | None  # that agent's name
    text: str
    attachments: int


@dataclass(frozen=True, slots=True)
class InboxRow:
    """A conversation of the inbox: its row, last message, unread count and assignee's name."""

    row: ConversationRow
    last_message: LastMessage | None
    unread: int  # visitor messages since the last human reply (while it waits for one)
    assignee_name: str | None


def tabs_for(member: Member) -> tuple[str, ...]:
    """The tabs `member` is offered: "all" only to those who see every conversation."""
    return TABS if member.can(VIEW_ALL) else TABS[:2]


def tab_counts(session: Session, member: Member, status: str) -> dict[str, int]:
    """How many conversations of `status` each of the member's tabs holds, in one query."""
    query = select(
        func.count(case((_in_tab(member, "mine"), 1))),
        func.count(case((_in_tab(member, "unassigned"), 1))),
        func.count(),
    ).where(visible_conversations(member), Conversation.status == status)
    mine, unassigned, every = session.execute(query).one()
    counts = {"mine": mine, "unassigned": unassigned, "all": every}
    return {tab: counts[tab] for tab in tabs_for(member)}


def inbox_rows(
    session: Session,
    member: Member,
    tab: str,
    status: str,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[InboxRow], str | None]:
    """A page of the tab's conversations of `status`, latest activity first, and the next cursor."""
    query = (
        select(Conversation, Contact)
        .join(Contact, Conversation.contact_id == Contact.id)
        .where(visible_conversations(member), _in_tab(member, tab), Conversation.status == status)
    )
    if cursor is not None:
        at, before_id = decode_position(cursor)
        query = query.where(
            tuple_(Conversation.last_activity_at, Conversation.id) < (at, before_id)
        )
    order = (Conversation.last_activity_at.desc(), Conversation.id.desc())
    found = session.execute(query.order_by(*order).limit(check_limit(limit) + 1)).all()
    rows = _with_details(session, member, [row_for(member, *pair) for pair in found[:limit]])
    if len(found) <= limit:
        return rows, None
    last = found[limit - 1][0]
    return rows, encode_position(last.last_activity_at, last.id)


def _in_tab(member: Member, tab: str) -> ColumnElement[bool]:
    if tab == "mine":
        return Conversation.assignee_id == member.id
    if tab == "unassigned":
        return Conversation.assignee_id.is_(None)
    if tab == "all" and member.can(VIEW_ALL):
        return true()
    raise ValueError(f"{tab!r} is not a tab {member.email} has; the tabs: {tabs_for(member)}")


def _with_details(
    session: Session, member: Member, rows: Sequence[ConversationRow]
) -> list[InboxRow]:
    ids = [row.id for row in rows]
    last = _last_messages(session, ids)
    unread = _unread(session, [row.id for row in rows if row.waiting_since is not None])
    people = {m.id for m in last.values() if m.member_id} | {r.assignee_id for r in rows}
    names = _names(session, member.workspace_id, people)
    return [
        InboxRow(
            row=row,
            last_message=_preview(last[row.id], names) if row.id in last else None,
            unread=unread.get(row.id, 0),
            assignee_name=names.get(row.assignee_id) if row.assignee_id else None,
        )
        for row in rows
    ]


def _last_messages(session: Session, ids: list[int]) -> dict[int, Message]:
    latest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
    )
    found = session.scalars(select(Message).where(Message.id.in_(latest)))
    return {message.conversation_id: message for message in found}


def _unread(session: Session, waiting: list[int]) -> dict[int, int]:
    # waiting_since is the first visitor message after the last human reply (chat.conversations)
    query = (
        select(Message.conversation_id, func.count())
        .join(Conversation, Message.conversation_id == Conversation.id)
        .where(
            Message.conversation_id.in_(waiting),
            Message.sender == "visitor",
            Message.created_at >= Conversation.waiting_since,
        )
        .group_by(Message.conversation_id)
    )
    return dict(session.execute(query).all())


def _names(session: Session, workspace_id: int, ids: set[int | None]) -> dict[int | None, str]:
    query = select(Member.id, Member.name).where(
        Member.workspace_id == workspace_id, Member.id.in_([i for i in ids if i is not None])
    )
    return dict(session.execute(query).all())


def _preview(message: Message, names: dict[int | None, str]) -> LastMessage:
    author = names.get(message.member_id) if message.sender == "agent" else None
    return LastMessage(
        message.sender, message.member_id, author, message.text, len(message.attachments)
    )
