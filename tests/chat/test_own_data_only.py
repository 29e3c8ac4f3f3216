"""An agent limited to their own conversations finds nothing of anyone else's, by any route.

Ann may manage tags and edit contacts but not view all conversations. Around her conversation
are Bob's (ongoing and ended), an unassigned one, and one of another workspace that names Ann
as its assignee (the database does not stop that). Every query and action is walked as Ann.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from chat.contacts import edit_contact, get_contact, list_contacts
from chat.errors import NotFound
from chat.inbox import dashboard, find_conversation, get_conversation, list_conversations
from chat.inbox_actions import assign, end_conversation, reply, set_hosting, set_tags
from chat.models import Contact, Conversation, Member, Workspace

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    """Ann, what is hers, and what is not."""

    ann: Member
    bob: Member
    hers: Conversation
    foreign: list[Conversation]

    def foreign_contacts(self) -> list[Contact]:
        """The contacts of conversations that are not Ann's."""
        return [conversation.contact for conversation in self.foreign]


@pytest.fixture
def world(
    session: Session,
    add_member: Callable[..., Member],
    add_contact: Callable[..., Contact],
    add_conversation: Callable[..., Conversation],
) -> World:
    """Ann's one conversation among others' conversations, tagged and timed alike."""
    ann = add_member(permissions=["conversation_tags.manage", "contacts.edit"])
    bob = add_member()
    other = Workspace(name="Other")
    session.add(other)
    session.flush()
    alike = {"tags": ["vip"], "hosting": False, "received_at": T0}
    hers = add_conversation(assignee_id=ann.id, **alike)
    foreign = [
        add_conversation(assignee_id=bob.id, **alike),
        add_conversation(assignee_id=bob.id, status="ended", ended_at=T0, **alike),
        add_conversation(**alike),
        add_conversation(workspace_id=other.id, assignee_id=ann.id, **alike),
    ]
    session.flush()
    return World(ann, bob, hers, foreign)


def test_lists_and_pages_hold_only_her_conversation(session: Session, world: World) -> None:
    ann, bob = world.ann, world.bob
    seen: set[int] = set()
    for filters in ({}, {"tag": "vip"}, {"channel": "messenger"}, {"received_from": T0}):
        rows, cursor = list_conversations(session, ann, limit=1, **filters)
        seen |= {row.id for row in rows}
        assert cursor is None
    for narrowed in (
        {"status": "ended"},
        {"assignee_id": bob.id},
        {"assignee_id": ann.id, "status": "ended"},
    ):
        assert list_conversations(session, ann, **narrowed) == ([], None)
    assert seen == {world.hers.id}


def test_no_detail_of_anyone_elses_conversation(session: Session, world: World) -> None:
    assert get_conversation(session, world.ann, world.hers.id).id == world.hers.id
    for conversation in world.foreign:
        for lookup in (get_conversation, find_conversation):
            with pytest.raises(NotFound):
                lookup(session, world.ann, conversation.id)


def test_the_dashboard_counts_only_hers(session: Session, world: World) -> None:
    ann = world.ann
    assert dashboard(session, ann) == {"ongoing": 1, "ended": 0, "total": 1}
    assert dashboard(session, ann, tag="vip", received_from=T0)["total"] == 1
    assert dashboard(session, ann, assignee_id=world.bob.id) == {
        "ongoing": 0,
        "ended": 0,
        "total": 0,
    }


def test_a_hosting_batch_with_foreign_ids_changes_nothing(session: Session, world: World) -> None:
    for conversation in world.foreign:
        with pytest.raises(NotFound) as caught:
            set_hosting(
                session, world.ann, conversation_ids=[world.hers.id, conversation.id], on=True
            )
        assert str(conversation.id) in caught.value.message
    assert [c.hosting for c in (world.hers, *world.foreign)] == [False] * 5
    assert set_hosting(session, world.ann, all_assigned=True, on=True) == [world.hers]
    assert [c.hosting for c in world.foreign] == [False] * 4


def test_no_action_reaches_anyone_elses_conversation(session: Session, world: World) -> None:
    ann, at = world.ann, T0 + timedelta(minutes=1)
    for conversation in world.foreign:
        before = (conversation.assignee_id, conversation.status, list(conversation.tags))
        for act in (
            lambda c: assign(session, ann, c, ann.id),
            lambda c: end_conversation(session, ann, c, at=at),
            lambda c: set_tags(session, ann, c, add=["mine"], remove=["vip"]),
            lambda c: reply(session, ann, c, "Hello from Ann", at),
        ):
            with pytest.raises(NotFound):
                act(conversation)
        assert (conversation.assignee_id, conversation.status, conversation.tags) == before
        assert conversation.message_count == 0


def test_no_contact_of_anyone_elses_conversation(session: Session, world: World) -> None:
    ann = world.ann
    assert get_contact(session, ann, world.hers.contact_id).id == world.hers.contact_id
    for contact in world.foreign_contacts():
        with pytest.raises(NotFound):
            get_contact(session, ann, contact.id)
        with pytest.raises(NotFound):
            edit_contact(session, ann, contact.id, remark_name="Seen by Ann")
        assert contact.remark_name is None
    contacts, _ = list_contacts(session, ann, search="Visitor")
    assert [contact.id for contact in contacts] == [world.hers.contact_id]
