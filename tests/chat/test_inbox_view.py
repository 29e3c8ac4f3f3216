"""The console inbox's queries: tabs and their counts, last messages, unread counts, pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from chat.conversations import record_message
from chat.inbox_view import inbox_rows, tab_counts, tabs_for
from chat.models import Conversation, Member, Sender

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
AddConversation = Callable[..., Conversation]
AddMember = Callable[..., Member]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def write(
    session: Session,
    conversation: Conversation,
    sender: Sender,
    minute: int,
    *,
    text: str = "...",
    member_id: int | None = None,
    attachments: Sequence[Mapping[str, Any]] = (),
) -> None:
    record_message(
        session,
        conversation,
        sender=sender,
        text=text,
        at=at(minute),
        member_id=member_id,
        attachments=attachments,
    )


def listed(session: Session, member: Member, tab: str, status: str = "ongoing") -> list[int]:
    return [item.row.id for item in inbox_rows(session, member, tab, status)[0]]


def test_tabs_split_what_the_member_sees_by_assignee_and_all_needs_view_all(
    session: Session, owner: Member, add_member: AddMember, add_conversation: AddConversation
) -> None:
    agent = add_member()
    own, nobodys = add_conversation(assignee_id=agent.id), add_conversation()
    owners = add_conversation(assignee_id=owner.id, last_activity_at=at(5))
    add_conversation(assignee_id=agent.id, status="ended")
    assert tabs_for(owner) == ("mine", "unassigned", "all")
    assert tab_counts(session, owner, "ongoing") == {"mine": 1, "unassigned": 1, "all": 3}
    assert listed(session, owner, "all") == [owners.id, nobodys.id, own.id]
    assert listed(session, owner, "unassigned") == [nobodys.id]
    # an own-data agent sees only their own: nothing is unassigned to them, and no "all"
    assert tabs_for(agent) == ("mine", "unassigned")
    assert tab_counts(session, agent, "ongoing") == {"mine": 1, "unassigned": 0}
    assert tab_counts(session, agent, "ended") == {"mine": 1, "unassigned": 0}
    assert listed(session, agent, "mine") == [own.id]
    with pytest.raises(ValueError, match="'all' is not a tab"):
        inbox_rows(session, agent, "all", "ongoing")


def test_a_row_has_its_last_message_and_who_wrote_it(
    session: Session, owner: Member, add_member: AddMember, add_conversation: AddConversation
) -> None:
    ana = add_member(name="Ana")
    conversation = add_conversation(assignee_id=ana.id)
    write(session, conversation, "visitor", 1)
    write(session, conversation, "agent", 2, member_id=ana.id, text="On its way")
    [item] = inbox_rows(session, owner, "all", "ongoing")[0]
    assert item.assignee_name == "Ana"
    assert item.last_message is not None
    assert (item.last_message.sender, item.last_message.author) == ("agent", "Ana")
    assert item.last_message.member_id == ana.id
    assert item.last_message.text == "On its way"
    write(session, conversation, "bot", 3, attachments=[{"type": "image", "url": "x"}])
    [item] = inbox_rows(session, owner, "all", "ongoing")[0]
    assert item.last_message is not None
    assert (item.last_message.sender, item.last_message.attachments) == ("bot", 1)


def test_unread_counts_visitor_messages_since_the_last_human_reply(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(hosting=False)
    [fresh] = inbox_rows(session, owner, "all", "ongoing")[0]
    assert (fresh.unread, fresh.last_message) == (0, None)
    write(session, conversation, "visitor", 1)
    write(session, conversation, "bot", 2)  # a bot's message answers nobody's wait
    write(session, conversation, "visitor", 3)
    assert inbox_rows(session, owner, "all", "ongoing")[0][0].unread == 2
    write(session, conversation, "agent", 4, member_id=owner.id)
    assert inbox_rows(session, owner, "all", "ongoing")[0][0].unread == 0
    write(session, conversation, "visitor", 5)
    assert inbox_rows(session, owner, "all", "ongoing")[0][0].unread == 1


def test_pages_follow_the_latest_activity_and_stay_within_the_tab(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    made = [add_conversation(last_activity_at=at(minute)) for minute in range(5)]
    add_conversation(assignee_id=owner.id, last_activity_at=at(10))  # in "mine", not here
    first, cursor = inbox_rows(session, owner, "unassigned", "ongoing", limit=3)
    assert [item.row.id for item in first] == [c.id for c in made[:1:-1]]
    assert cursor is not None
    rest, end = inbox_rows(session, owner, "unassigned", "ongoing", cursor=cursor, limit=3)
    assert [item.row.id for item in rest] == [made[1].id, made[0].id]
    assert end is None
