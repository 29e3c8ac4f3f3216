"""The contact list's rows: the caller's way of naming, channels, and the latest conversation."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from chat.directory import contact_rows, workspace_members
from chat.models import ChannelIdentity, Contact, Conversation, Member

AddContact = Callable[..., Contact]
AddConversation = Callable[..., Conversation]
AddMember = Callable[..., Member]


def test_a_row_names_the_contact_the_callers_way_with_channels_and_latest_conversation(
    session: Session, owner: Member, add_contact: AddContact, add_conversation: AddConversation
) -> None:
    carla = add_contact(name="Carla Diaz", remark_name="Carla (wholesale)", tags=["vip"])
    for channel, account in (
        ("widget", "widget"),
        ("messenger", "page-1"),
        ("messenger", "page-2"),
    ):
        carla.identities.append(
            ChannelIdentity(channel=channel, account=account, external_id=f"{account}-carla")
        )
    add_conversation(contact_id=carla.id, status="ended")
    latest = add_conversation(contact_id=carla.id)
    quiet = add_contact(name="Quiet")

    rows = contact_rows(session, owner, [carla, quiet])

    assert [row.display_name for row in rows] == ["Carla (wholesale)", "Quiet"]
    assert rows[0].channels == ["messenger", "widget"]
    assert rows[0].latest_conversation_id == latest.id
    assert rows[0].tags == ["vip"]
    assert rows[1].channels == []
    assert rows[1].latest_conversation_id is None
    owner.prefer_remark_name, owner.show_visitor_tags = False, False
    plain = contact_rows(session, owner, [carla])[0]
    assert plain.display_name == "Carla Diaz"
    assert plain.tags is None


def test_an_agent_without_view_all_is_linked_only_to_their_own_conversation(
    session: Session,
    owner: Member,
    add_member: AddMember,
    add_contact: AddContact,
    add_conversation: AddConversation,
) -> None:
    agent = add_member(name="Ada")
    carla = add_contact(name="Carla")
    theirs = add_conversation(contact_id=carla.id, assignee_id=agent.id)
    add_conversation(contact_id=carla.id, assignee_id=owner.id)  # later, someone else's

    assert contact_rows(session, agent, [carla])[0].latest_conversation_id == theirs.id
    assert [member.name for member in workspace_members(session, agent)] == ["Ada", "Olive Owner"]
