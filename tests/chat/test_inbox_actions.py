"""What members do to conversations: each action says what changed; repeating it changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat import inbox_actions
from chat.errors import Conflict, Forbidden, Invalid, NotFound
from chat.inbox_actions import (
    MAX_BATCH,
    assign,
    end_conversation,
    reply,
    set_hosting,
    set_tags,
)
from chat.models import Conversation, Member, OutboxEvent, Workspace
from engine.events import parse_event

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
AddConversation = Callable[..., Conversation]
AddMember = Callable[..., Member]


@pytest.fixture
def other_workspace(session: Session) -> Workspace:
    """A second workspace, whose members and conversations are out of reach."""
    other = Workspace(name="Other")
    session.add(other)
    session.flush()
    return other


def test_assigning_says_what_changed_and_which_event_tells_it(
    session: Session, owner: Member, add_member: AddMember, add_conversation: AddConversation
) -> None:
    agent, conversation = add_member(), add_conversation()
    change = assign(session, owner, conversation, agent.id)
    assert (change.changed, change.event) == (True, "conversation.assigned")
    assert change.fields == {"assignee_id": (None, agent.id)}
    assert conversation.assignee_id == agent.id
    again = assign(session, owner, conversation, agent.id)
    assert (again.changed, again.event, again.fields) == (False, None, {})


def test_unassigning_is_its_own_event(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(assignee_id=owner.id)
    change = assign(session, owner, conversation, None)
    assert (change.event, change.fields) == (
        "conversation.unassigned",
        {"assignee_id": (owner.id, None)},
    )
    assert conversation.state == "hosted"
    assert not assign(session, owner, conversation, None).changed


def test_an_agent_passes_on_a_conversation_they_received(
    session: Session, add_member: AddMember, add_conversation: AddConversation
) -> None:
    ann, bob = add_member(), add_member()
    conversation = add_conversation(assignee_id=ann.id)
    assert assign(session, ann, conversation, bob.id).event == "conversation.assigned"
    # Now Bob's, it is out of Ann's sight: she cannot take it back.
    with pytest.raises(NotFound):
        assign(session, ann, conversation, ann.id)


def test_the_assignee_must_be_a_member_of_the_workspace(
    session: Session,
    owner: Member,
    add_member: AddMember,
    add_conversation: AddConversation,
    other_workspace: Workspace,
) -> None:
    stranger = add_member(workspace_id=other_workspace.id)
    conversation = add_conversation()
    for assignee, refusal in ((stranger.id, NotFound), (stranger.id + 1000, NotFound)):
        with pytest.raises(refusal) as caught:
            assign(session, owner, conversation, assignee)
        assert caught.value.field == "assignee_id"
    with pytest.raises(Invalid) as not_an_id:
        assign(session, owner, conversation, True)
    assert not_an_id.value.field == "assignee_id"
    assert conversation.assignee_id is None


def test_ending_happens_once(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation()
    at = T0 + timedelta(hours=1)
    change = end_conversation(session, owner, conversation, at=at)
    assert (change.event, change.fields) == ("conversation.ended", {"status": ("ongoing", "ended")})
    assert (conversation.status, conversation.ended_at) == ("ended", at)
    later = end_conversation(session, owner, conversation, at=at + timedelta(hours=1))
    assert not later.changed
    assert conversation.ended_at == at


def test_tags_are_added_and_removed_and_kept(
    session: Session,
    new_session: Callable[[], Session],
    owner: Member,
    add_conversation: AddConversation,
) -> None:
    conversation = add_conversation(tags=["billing", "urgent"])
    change = set_tags(session, owner, conversation, add=[" vip ", "new", "vip"], remove=["urgent"])
    assert change.fields == {"tags": (["billing", "urgent"], ["billing", "vip", "new"])}
    assert change.event is None
    session.commit()
    with new_session() as reader:
        assert reader.get_one(Conversation, conversation.id).tags == ["billing", "vip", "new"]
    assert not set_tags(session, owner, conversation, add=["vip"], remove=["gone"]).changed


def test_managing_tags_needs_the_permission(
    session: Session, add_member: AddMember, add_conversation: AddConversation
) -> None:
    agent = add_member()
    conversation = add_conversation(assignee_id=agent.id)
    with pytest.raises(Forbidden, match="conversation_tags"):
        set_tags(session, agent, conversation, add=["vip"])
    allowed = add_member(permissions=["conversation_tags.manage"])
    conversation.assignee_id = allowed.id
    assert set_tags(session, allowed, conversation, add=["vip"]).changed


@pytest.mark.parametrize(
    ("add", "remove", "field"),
    [
        (["vip"], ["vip"], "remove"),
        (["  "], [], "add"),
        ([], [7], "remove"),
        ("vip", [], "add"),
    ],
)
def test_bad_tags_are_refused_by_name(
    session: Session,
    owner: Member,
    add_conversation: AddConversation,
    add: Any,
    remove: Any,
    field: str,
) -> None:
    conversation = add_conversation(tags=["vip"])
    with pytest.raises(Invalid) as caught:
        set_tags(session, owner, conversation, add=add, remove=remove)
    assert caught.value.field == field
    assert conversation.tags == ["vip"]


def test_hosting_changes_for_the_listed_conversations_once(
    session: Session,
    new_session: Callable[[], Session],
    owner: Member,
    add_conversation: AddConversation,
) -> None:
    hosted, manual = add_conversation(hosting=True), add_conversation(hosting=False)
    changed = set_hosting(session, owner, conversation_ids=[manual.id, hosted.id], on=False)
    assert changed == [hosted]
    assert set_hosting(session, owner, conversation_ids=[manual.id, hosted.id], on=False) == []
    session.commit()
    with new_session() as reader:
        assert reader.get_one(Conversation, hosted.id).hosting is False


def test_hosting_for_all_assigned_takes_the_ongoing_assigned_ones(
    session: Session, owner: Member, add_member: AddMember, add_conversation: AddConversation
) -> None:
    agent = add_member()
    assigned = [
        add_conversation(assignee_id=agent.id, hosting=False),
        add_conversation(assignee_id=owner.id, hosting=False),
    ]
    add_conversation(hosting=False)  # unassigned
    add_conversation(assignee_id=agent.id, hosting=False, status="ended")
    changed = set_hosting(session, owner, all_assigned=True, on=True)
    assert changed == assigned
    assert set_hosting(session, owner, all_assigned=True, on=True) == []


def test_an_unknown_id_changes_nothing_and_is_named(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(hosting=True)
    missing = conversation.id + 1000
    with pytest.raises(NotFound) as caught:
        set_hosting(session, owner, conversation_ids=[conversation.id, missing], on=False)
    assert caught.value.field == "conversation_ids"
    assert str(missing) in caught.value.message
    assert conversation.hosting is True


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({}, "conversation_ids"),
        ({"conversation_ids": [], "on": True}, "conversation_ids"),
        ({"conversation_ids": [1], "all_assigned": True}, "all"),  # as the API names it
        ({"conversation_ids": "1,2"}, "conversation_ids"),
        ({"conversation_ids": [1, "2"]}, "conversation_ids"),
        ({"conversation_ids": list(range(1, MAX_BATCH + 2))}, "conversation_ids"),
        ({"all_assigned": True, "on": "yes"}, "on"),
    ],
)
def test_a_bad_hosting_request_is_refused_by_name(
    session: Session, owner: Member, arguments: dict[str, Any], field: str
) -> None:
    arguments.setdefault("on", True)
    with pytest.raises(Invalid) as caught:
        set_hosting(session, owner, **arguments)
    assert caught.value.field == field


def test_a_reply_is_recorded_as_the_agents_and_counted(
    session: Session, add_member: AddMember, add_conversation: AddConversation
) -> None:
    agent = add_member()
    conversation = add_conversation(
        assignee_id=agent.id, waiting_since=T0, last_visitor_message_at=T0
    )
    message, _ = reply(
        session, agent, conversation, "Hello, how can I help?", T0 + timedelta(minutes=1)
    )
    assert (message.sender, message.member_id, message.text) == (
        "agent",
        agent.id,
        "Hello, how can I help?",
    )
    assert (message.conversation_id, message.channel) == (conversation.id, "messenger")
    assert (conversation.message_count, conversation.agent_message_count) == (1, 1)
    assert conversation.waiting_since is None


@pytest.mark.parametrize(("text", "field"), [("", "text"), ("   ", "text"), ("x" * 2001, "text")])
def test_a_reply_needs_some_text_within_the_limit(
    session: Session, owner: Member, add_conversation: AddConversation, text: str, field: str
) -> None:
    conversation = add_conversation()
    with pytest.raises(Invalid) as caught:
        reply(session, owner, conversation, text, T0)
    assert caught.value.field == field
    assert conversation.message_count == 0


def test_a_reply_sent_again_with_its_client_id_is_stored_and_told_once(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(last_visitor_message_at=T0)
    first = reply(session, owner, conversation, "On its way", T0, client_id="r1")
    again = reply(session, owner, conversation, "On its way", T0, client_id="r1")
    other = reply(session, owner, conversation, "On its way", T0, client_id="r2")
    assert (first.created, again.created, other.created) == (True, False, True)
    assert again.message.id == first.message.id != other.message.id
    assert conversation.agent_message_count == 2
    assert _told(session) == [("message.sent", str(conversation.id))] * 2


def test_a_retry_that_races_the_first_call_is_told_to_the_engine_once(
    session: Session,
    owner: Member,
    add_conversation: AddConversation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversation = add_conversation(last_visitor_message_at=T0)
    first = reply(session, owner, conversation, "On its way", T0, client_id="r1")
    # the retry looked before the first call's transaction had committed, and found nothing
    monkeypatch.setattr(inbox_actions, "sent_before", lambda *_args: None)
    again = reply(session, owner, conversation, "On its way", T0, client_id="r1")
    assert (again.created, again.message.id) == (False, first.message.id)
    assert _told(session) == [("message.sent", str(conversation.id))]


@pytest.mark.parametrize("client_id", ["", "with space", "x" * 65, "ü"])
def test_a_client_id_is_letters_digits_dashes_and_underscores(
    session: Session, owner: Member, add_conversation: AddConversation, client_id: str
) -> None:
    conversation = add_conversation()
    with pytest.raises(Invalid) as caught:
        reply(session, owner, conversation, "On its way", T0, client_id=client_id)
    assert caught.value.field == "client_id"


def test_an_ended_conversation_takes_no_reply(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(status="ended", ended_at=T0)
    with pytest.raises(Conflict, match="has ended"):
        reply(session, owner, conversation, "Still there?", T0)


def _told(session: Session) -> list[tuple[str, str | None]]:
    """The engine events staged in the session's transaction: (type, conversation id)."""
    rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
    return [(e.type, e.conversation_id) for e in (parse_event(r.event) for r in rows)]


def test_an_action_tells_the_engine_in_its_own_transaction_and_only_when_it_changed_something(
    session: Session, owner: Member, add_member: AddMember, add_conversation: AddConversation
) -> None:
    conversation = add_conversation()
    assign(session, owner, conversation, add_member().id, at=T0)
    assign(session, owner, conversation, conversation.assignee_id, at=T0)  # no change
    set_tags(session, owner, conversation, add=["vip"])  # flows read tags from the next event
    end_conversation(session, owner, conversation, at=T0)
    assert _told(session) == [
        ("conversation.assigned", str(conversation.id)),
        ("conversation.ended", str(conversation.id)),
    ]


def test_switching_hosting_tells_the_engine_once_per_conversation_that_changed(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    manual, hosted = add_conversation(hosting=False), add_conversation(hosting=True)
    set_hosting(session, owner, conversation_ids=[manual.id, hosted.id], on=True, at=T0)
    assert _told(session) == [("conversation.hosting_changed", str(manual.id))]


def test_a_reply_past_the_messenger_window_is_refused_in_words_and_tells_nothing(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(last_visitor_message_at=T0 - timedelta(days=8))
    with pytest.raises(Conflict) as caught:
        reply(session, owner, conversation, "Still there?", T0)
    assert (caught.value.code, caught.value.field) == ("window_closed", "tag")
    assert "8 days" in caught.value.message
    assert _told(session) == []


def test_a_reply_tells_the_engine_what_the_agent_said(
    session: Session, owner: Member, add_conversation: AddConversation
) -> None:
    conversation = add_conversation(last_visitor_message_at=T0 - timedelta(days=2))
    message, _ = reply(session, owner, conversation, "Sorry for the wait", T0)
    assert message.message_tag == "HUMAN_AGENT"  # past 24 hours, within 7 days
    assert _told(session) == [("message.sent", str(conversation.id))]
