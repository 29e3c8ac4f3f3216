"""The inbox: the conversation list with its filters and pages, one conversation, the counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from chat.errors import Invalid, NotFound
from chat.inbox import dashboard, find_conversation, get_conversation, list_conversations
from chat.models import Contact, Conversation, Member, Workspace
from chat.paging import decode_position, encode_cursor, encode_position

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
PLUS_2 = timezone(timedelta(hours=2))
AddConversation = Callable[..., Conversation]
AddContact = Callable[..., Contact]
AddMember = Callable[..., Member]


def minutes(count: int) -> datetime:
    return T0 + timedelta(minutes=count)


def ids(rows: list[Any]) -> list[int]:
    return [row.id for row in rows]


def test_view_all_shows_every_conversation_and_without_it_only_ones_own(
    session: Session, add_member: AddMember, add_conversation: AddConversation
) -> None:
    viewer, agent = add_member(permissions=["conversations.view_all"]), add_member()
    theirs, unassigned = add_conversation(assignee_id=agent.id), add_conversation()
    assert ids(list_conversations(session, viewer)[0]) == [unassigned.id, theirs.id]
    assert ids(list_conversations(session, agent)[0]) == [theirs.id]


def test_a_row_carries_what_the_list_shows_as_json(
    session: Session, owner: Member, add_contact: AddContact, add_conversation: AddConversation
) -> None:
    contact = add_contact(name="Anna", remark_name="VIP Anna", tags=["returning"])
    conversation = add_conversation(
        contact_id=contact.id,
        hosting=False,
        assignee_id=owner.id,
        tags=["billing"],
        message_count=3,
        visitor_message_count=2,
        agent_message_count=1,
        first_response_seconds=42,
        waiting_since=minutes(5),
        last_activity_at=minutes(5),
    )
    rows, cursor = list_conversations(session, owner)
    assert cursor is None
    assert json.loads(json.dumps(rows[0].to_json())) == {
        "id": conversation.id,
        "contact_id": contact.id,
        "display_name": "VIP Anna",
        "contact_tags": ["returning"],
        "channel": "messenger",
        "status": "ongoing",
        "state": "assigned",
        "hosting": False,
        "assignee_id": owner.id,
        "tags": ["billing"],
        "is_new_visitor": True,
        "received_at": "2026-01-01T09:00:00+00:00",
        "ended_at": None,
        "last_activity_at": "2026-01-01T09:05:00+00:00",
        "message_count": 3,
        "visitor_message_count": 2,
        "agent_message_count": 1,
        "first_response_seconds": 42,
        "waiting_since": "2026-01-01T09:05:00+00:00",
    }


def test_names_and_visitor_tags_follow_the_callers_own_settings(
    session: Session,
    add_member: AddMember,
    add_contact: AddContact,
    add_conversation: AddConversation,
) -> None:
    contact = add_contact(name="Anna", remark_name="VIP Anna", tags=["returning"])
    add_conversation(contact_id=contact.id)
    likes_remarks = add_member(role="admin")
    plain = add_member(role="admin", prefer_remark_name=False, show_visitor_tags=False)
    [seen_by_one], _ = list_conversations(session, likes_remarks)
    [seen_by_other], _ = list_conversations(session, plain)
    assert (seen_by_one.display_name, seen_by_one.contact_tags) == ("VIP Anna", ["returning"])
    assert (seen_by_other.display_name, seen_by_other.contact_tags) == ("Anna", None)


def test_without_a_remark_name_the_channel_name_shows(
    session: Session, owner: Member, add_contact: AddContact, add_conversation: AddConversation
) -> None:
    add_conversation(contact_id=add_contact(name="Anna").id)
    [row], _ = list_conversations(session, owner)
    assert row.display_name == "Anna"


def test_latest_activity_comes_first_then_the_higher_id(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    old = add_conversation(last_activity_at=minutes(1))
    tie_a = add_conversation(last_activity_at=minutes(5))
    tie_b = add_conversation(last_activity_at=minutes(5))
    new = add_conversation(received_at=T0, last_activity_at=minutes(9))
    rows, _ = list_conversations(session, owner)
    assert ids(rows) == [new.id, tie_b.id, tie_a.id, old.id]


def test_pages_cover_every_conversation_once_even_with_equal_times(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    made = [add_conversation(last_activity_at=minutes(number // 3)) for number in range(8)]
    expected = sorted(made, key=lambda c: (c.last_activity_at, c.id), reverse=True)
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(4):
        page, cursor = list_conversations(session, owner, cursor=cursor, limit=3)
        seen += ids(page)
        if cursor is None:
            break
    assert seen == [conversation.id for conversation in expected]
    assert cursor is None


def test_a_page_that_ends_exactly_has_no_next_cursor(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    for _ in range(2):
        add_conversation()
    page, cursor = list_conversations(session, owner, limit=2)
    assert (len(page), cursor) == (2, None)


def test_paging_keeps_the_filters(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    for number in range(6):
        add_conversation(
            channel="widget" if number % 2 else "messenger", last_activity_at=minutes(number)
        )
    first, cursor = list_conversations(session, owner, channel="widget", limit=2)
    rest, last = list_conversations(session, owner, channel="widget", cursor=cursor, limit=2)
    assert [row.last_activity_at[11:16] for row in first + rest] == ["09:05", "09:03", "09:01"]
    assert last is None


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "", encode_cursor(5), "12.", ".1", "1.x", "99999999999999999.1", "1.2.3"],
)
def test_a_cursor_this_list_did_not_give_is_refused(
    session: Session, owner: Member, cursor: str
) -> None:
    with pytest.raises(Invalid) as caught:
        list_conversations(session, owner, cursor=cursor)
    assert caught.value.field == "cursor"


@pytest.mark.parametrize("limit", [0, 201])
def test_a_page_size_out_of_range_is_refused(session: Session, owner: Member, limit: int) -> None:
    with pytest.raises(Invalid) as caught:
        list_conversations(session, owner, limit=limit)
    assert caught.value.field == "limit"


@pytest.fixture
def varied(add_member: AddMember, add_conversation: AddConversation) -> dict[str, Conversation]:
    """Conversations that differ in one way each, for the filters to tell apart."""
    ann = add_member(email="ann@example.com")
    return {
        "ended": add_conversation(status="ended", ended_at=minutes(30), received_at=minutes(10)),
        "ann's": add_conversation(assignee_id=ann.id, received_at=minutes(20)),
        "vip": add_conversation(tags=["vip", "billing"], received_at=minutes(30)),
        "widget": add_conversation(channel="widget", tags=["vip2"], received_at=minutes(40)),
    }


@pytest.mark.parametrize(
    ("filters", "found"),
    [
        ({"status": "ended"}, ["ended"]),
        ({"status": "ongoing"}, ["widget", "vip", "ann's"]),
        ({"tag": "vip"}, ["vip"]),
        ({"tag": " billing "}, ["vip"]),
        ({"tag": "vi"}, []),
        ({"channel": "widget"}, ["widget"]),
        ({"received_from": minutes(20)}, ["widget", "vip", "ann's"]),
        ({"received_to": minutes(20)}, ["ended"]),
        ({"received_from": minutes(20), "received_to": minutes(40)}, ["vip", "ann's"]),
        ({"received_from": minutes(20).astimezone(PLUS_2), "received_to": minutes(21)}, ["ann's"]),
    ],
)
def test_filters_narrow_the_list(
    session: Session,
    owner: Member,
    varied: dict[str, Conversation],
    filters: dict[str, Any],
    found: list[str],
) -> None:
    names = {conversation.id: name for name, conversation in varied.items()}
    rows, _ = list_conversations(session, owner, **filters)
    assert [names[row.id] for row in rows] == found


def test_the_assignee_filter_finds_one_members_conversations(
    session: Session, owner: Member, varied: dict[str, Conversation]
) -> None:
    assignee = varied["ann's"].assignee_id
    rows, _ = list_conversations(session, owner, assignee_id=assignee)
    assert ids(rows) == [varied["ann's"].id]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"status": "open"}, "status"),
        ({"channel": "sms"}, "channel"),
        ({"tag": "  "}, "tag"),
        ({"tag": "x" * 65}, "tag"),
        ({"assignee_id": True}, "assignee_id"),
        ({"received_from": datetime(2026, 1, 1)}, "received_from"),
        ({"received_to": "2026-01-01"}, "received_to"),
    ],
)
def test_a_bad_filter_is_refused_by_name(
    session: Session, owner: Member, filters: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        list_conversations(session, owner, **filters)
    assert (caught.value.field, caught.value.status) == (field, 422)


def test_a_time_range_that_ends_before_it_starts_holds_nothing(
    session: Session, owner: Member, varied: dict[str, Conversation]
) -> None:
    rows, _ = list_conversations(session, owner, received_from=minutes(5), received_to=minutes(4))
    assert rows == []


def test_one_conversation_reads_as_in_the_list(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(tags=["billing"])
    row = get_conversation(session, owner, conversation.id)
    assert row == list_conversations(session, owner)[0][0]
    assert find_conversation(session, owner, conversation.id) is conversation


def test_a_missing_and_a_foreign_conversation_look_the_same(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    other = Workspace(name="Other")
    session.add(other)
    session.flush()
    foreign = add_conversation(workspace_id=other.id)
    messages = []
    for conversation_id in (foreign.id, foreign.id + 1000):
        for lookup in (get_conversation, find_conversation):
            with pytest.raises(NotFound) as caught:
                lookup(session, owner, conversation_id)
            assert caught.value.field == "conversation_id"
            messages.append(caught.value.message.replace(str(conversation_id), "N"))
    assert len(set(messages)) == 1


def test_the_dashboard_counts_with_the_list_filters(
    session: Session, owner: Member, varied: dict[str, Conversation]
) -> None:
    assert dashboard(session, owner) == {"ongoing": 3, "ended": 1, "total": 4}
    assert dashboard(session, owner, tag="vip") == {"ongoing": 1, "ended": 0, "total": 1}
    assert dashboard(session, owner, received_to=minutes(20)) == {
        "ongoing": 0,
        "ended": 1,
        "total": 1,
    }
    assignee = varied["ann's"].assignee_id
    assert dashboard(session, owner, assignee_id=assignee, channel="messenger")["total"] == 1


def test_the_dashboard_is_one_count_query(
    session: Session, engine: Engine, owner: Member, varied: dict[str, Conversation]
) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    session.flush()
    event.listen(engine, "before_cursor_execute", record)
    try:
        dashboard(session, owner, channel="widget")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1
    assert "count(" in statements[0].lower()
    assert "contacts" not in statements[0].lower()


def test_a_position_cursor_round_trips_to_the_microsecond() -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert decode_position(encode_position(at, 17)) == (at, 17)
