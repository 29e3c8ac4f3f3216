"""Who sees and edits which contact: contacts follow the conversations a member sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from chat.contacts import edit_contact, get_contact, list_contacts
from chat.errors import Forbidden, Invalid, NotFound
from chat.models import Contact, Conversation, Member, Workspace

AddContact = Callable[..., Contact]
AddConversation = Callable[..., Conversation]
AddMember = Callable[..., Member]


def test_the_owner_sees_every_contact_of_the_workspace_only(
    session: Session, owner: Member, add_contact: AddContact
) -> None:
    other = Workspace(name="Other")
    session.add(other)
    session.flush()
    ours, theirs = add_contact(name="Anna"), add_contact(workspace_id=other.id, name="Zed")
    assert get_contact(session, owner, ours.id) is ours
    with pytest.raises(NotFound) as caught:
        get_contact(session, owner, theirs.id)
    assert caught.value.field == "contact_id"


def test_an_agent_sees_a_contact_only_through_their_conversation(
    session: Session,
    add_member: AddMember,
    add_contact: AddContact,
    add_conversation: AddConversation,
) -> None:
    ann, bob = add_member(), add_member()
    hers, his, nobodys = add_contact(name="A"), add_contact(name="B"), add_contact(name="C")
    add_conversation(contact_id=hers.id, assignee_id=ann.id)
    add_conversation(contact_id=his.id, assignee_id=bob.id)
    assert get_contact(session, ann, hers.id) is hers
    for contact in (his, nobodys):
        with pytest.raises(NotFound):
            get_contact(session, ann, contact.id)


def test_view_all_opens_every_contact(
    session: Session, add_member: AddMember, add_contact: AddContact
) -> None:
    viewer = add_member(permissions=["conversations.view_all"])
    lonely = add_contact(name="No conversation yet")
    assert get_contact(session, viewer, lonely.id) is lonely


def test_an_agent_lists_the_contacts_of_their_conversations_once_each(
    session: Session,
    add_member: AddMember,
    add_contact: AddContact,
    add_conversation: AddConversation,
) -> None:
    ann, bob = add_member(), add_member()
    regular, stranger = add_contact(name="Regular"), add_contact(name="Stranger")
    add_conversation(contact_id=regular.id, assignee_id=ann.id)
    add_conversation(contact_id=regular.id, assignee_id=ann.id)
    add_conversation(contact_id=regular.id, assignee_id=bob.id)
    add_conversation(contact_id=stranger.id, assignee_id=bob.id)
    contacts, cursor = list_contacts(session, ann)
    assert (contacts, cursor) == ([regular], None)


def test_editing_a_contact_needs_the_permission(
    session: Session, add_member: AddMember, add_contact: AddContact
) -> None:
    contact = add_contact(name="Anna")
    viewer = add_member(permissions=["conversations.view_all"])
    with pytest.raises(Forbidden, match=r"contacts\.edit"):
        edit_contact(session, viewer, contact.id, remark_name="VIP")
    editor = add_member(permissions=["conversations.view_all", "contacts.edit"])
    edited = edit_contact(
        session, editor, contact.id, remark_name=" VIP ", phone="+44 20 7946 0958"
    )
    assert (edited.remark_name, edited.phone) == ("VIP", "+442079460958")


def test_an_editor_cannot_reach_a_contact_they_do_not_see(
    session: Session, add_member: AddMember, add_contact: AddContact
) -> None:
    editor = add_member(permissions=["contacts.edit"])
    contact = add_contact(name="Anna")
    with pytest.raises(NotFound):
        edit_contact(session, editor, contact.id, remark_name="Mine now")
    assert contact.remark_name is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Renamed"}, "name"),
        ({"tags": ["vip"]}, "tags"),
        ({"phone": 442079460958}, "phone"),
        ({"remark_name": "ok", "email": "not an address"}, "email"),
    ],
)
def test_an_edit_the_contact_cannot_take_is_refused_by_name(
    session: Session, owner: Member, add_contact: AddContact, changes: dict[str, Any], field: str
) -> None:
    contact = add_contact(name="Anna")
    with pytest.raises(Invalid) as caught:
        edit_contact(session, owner, contact.id, **changes)
    assert caught.value.field == field
    assert (contact.name, contact.remark_name) == ("Anna", None)
