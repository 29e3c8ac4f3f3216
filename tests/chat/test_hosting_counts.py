"""What "all assigned" would change: the count the console's confirmation names."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from chat.inbox_actions import all_assigned_changes, set_hosting
from chat.models import Conversation, Member

AddConversation = Callable[..., Conversation]
AddMember = Callable[..., Member]


def test_the_count_is_what_switching_all_assigned_then_changes(
    session: Session, owner: Member, add_member: AddMember, add_conversation: AddConversation
) -> None:
    agent = add_member()
    add_conversation(assignee_id=agent.id, hosting=True)
    add_conversation(assignee_id=owner.id, hosting=True)
    add_conversation(assignee_id=agent.id, hosting=False)
    add_conversation(hosting=True)  # unassigned
    add_conversation(assignee_id=agent.id, hosting=True, status="ended")

    assert all_assigned_changes(session, owner, on=False) == 2
    assert all_assigned_changes(session, owner, on=True) == 1
    assert len(set_hosting(session, owner, all_assigned=True, on=False)) == 2
    assert all_assigned_changes(session, owner, on=False) == 0


def test_an_agent_without_view_all_counts_only_their_own(
    session: Session, owner: Member, add_member: AddMember, add_conversation: AddConversation
) -> None:
    agent = add_member()
    add_conversation(assignee_id=agent.id, hosting=True)
    add_conversation(assignee_id=owner.id, hosting=True)

    assert all_assigned_changes(session, agent, on=False) == 1
