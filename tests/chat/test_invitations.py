"""Invitations and password links: who may make them, and what a link opens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from chat.errors import Forbidden, NotFound
from chat.invitations import invite_member, password_link_for
from chat.members import add_member, create_workspace
from chat.models import Member, Workspace
from chat.signin import link_member

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def team(session: Session) -> tuple[Member, Member, Member]:
    """The owner, an admin and an agent of one workspace."""
    workspace, owner, _ = create_workspace(session, "Acme", "owner@example.com", "Olga")
    admin = add_member(session, workspace, "ada@example.com", "Ada", "admin")
    agent = add_member(session, workspace, "ana@example.com", "Ana", "agent")
    session.flush()
    return owner, admin, agent


def test_an_admin_invites_an_agent_whose_link_opens_their_account(
    session: Session, team: tuple[Member, Member, Member]
) -> None:
    _, admin, _ = team
    invited, token = invite_member(
        session, admin, "Bo@Example.com", "Bo", "agent", ["contacts.edit"], T0
    )
    assert (invited.email, invited.role, invited.permissions) == (
        "bo@example.com",
        "agent",
        ["contacts.edit"],
    )
    assert invited.password_hash is None
    assert link_member(session, token, T0).id == invited.id


def test_an_agent_invites_nobody(session: Session, team: tuple[Member, Member, Member]) -> None:
    _, _, agent = team
    with pytest.raises(Forbidden):
        invite_member(session, agent, "bo@example.com", "Bo", "agent", [], T0)


def test_a_password_link_for_the_owner_is_the_owners_own_to_make(
    session: Session, team: tuple[Member, Member, Member]
) -> None:
    owner, admin, agent = team
    with pytest.raises(Forbidden):
        password_link_for(session, admin, owner, T0)
    with pytest.raises(Forbidden):
        password_link_for(session, agent, agent, T0)
    assert link_member(session, password_link_for(session, owner, owner, T0), T0).id == owner.id
    assert link_member(session, password_link_for(session, admin, agent, T0), T0).id == agent.id


def test_no_password_link_for_a_member_of_another_workspace(
    session: Session, team: tuple[Member, Member, Member]
) -> None:
    owner, _, _ = team
    other = Workspace(name="Other")
    session.add(other)
    session.flush()
    stranger = add_member(session, other, "sam@example.com", "Sam", "agent")
    session.flush()
    with pytest.raises(NotFound):
        password_link_for(session, owner, stranger, T0)
