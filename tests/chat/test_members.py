"""Members: workspaces with their owner, API tokens, adding members, permissions, list settings."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from chat.members import (
    add_member,
    authenticate,
    create_workspace,
    find_member,
    issue_token,
    require,
    set_permissions,
    update_list_settings,
)
from chat.models import ApiToken, Member, Workspace

AddMember = Callable[..., Member]
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_a_workspace_is_created_with_its_owner_and_a_token(session: Session) -> None:
    workspace, owner, token = create_workspace(
        session, "  Acme Shop ", " Olive@Example.COM ", " Olive "
    )
    assert (workspace.name, owner.name, owner.email) == ("Acme Shop", "Olive", "olive@example.com")
    assert (owner.role, owner.workspace_id) == ("owner", workspace.id)
    assert token.startswith("pk_")
    assert len(token) == 3 + 43
    assert authenticate(session, token).id == owner.id


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (("", "a@example.com", "Ann"), "name"),
        (("Acme", "not an address", "Ann"), "owner_email"),
        (("Acme", "", "Ann"), "owner_email"),
        (("Acme", "a@example.com", "  "), "owner_name"),
        (("x" * 201, "a@example.com", "Ann"), "name"),
    ],
)
def test_a_workspace_needs_a_name_and_an_owner_with_an_address(
    session: Session, arguments: tuple[str, str, str], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        create_workspace(session, *arguments)
    assert caught.value.field == field
    assert session.scalars(select(Workspace)).all() == []


def test_only_the_hash_and_prefix_of_a_token_are_stored(session: Session, owner: Member) -> None:
    token = issue_token(session, owner)
    stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.prefix == token[:8]
    assert token not in (stored.token_hash, stored.prefix)


def test_every_token_is_different_and_each_works(session: Session, owner: Member) -> None:
    tokens = {issue_token(session, owner) for _ in range(3)}
    assert len(tokens) == 3
    assert {authenticate(session, token).id for token in tokens} == {owner.id}


@pytest.mark.parametrize(
    "token",
    ["", "pk_", "Bearer pk_abc", "pk_" + "a" * 19, "pk_" + "é" * 43, "sk_" + "a" * 43, "pk_a b"],
)
def test_a_malformed_token_is_refused(session: Session, owner: Member, token: str) -> None:
    with pytest.raises(Unauthenticated, match="not a Parley API token") as caught:
        authenticate(session, token)
    assert (caught.value.status, caught.value.code) == (401, "unauthenticated")


def test_an_unknown_token_is_refused(session: Session, owner: Member) -> None:
    issue_token(session, owner)
    with pytest.raises(Unauthenticated, match="not known"):
        authenticate(session, "pk_" + "A" * 43)


def test_using_a_token_records_when_at_most_once_a_minute(session: Session, owner: Member) -> None:
    token = issue_token(session, owner)
    stored = session.scalars(select(ApiToken)).one()
    assert stored.last_used_at is None
    authenticate(session, token, now=T0)
    assert stored.last_used_at == T0
    authenticate(session, token, now=T0 + timedelta(seconds=59))
    assert stored.last_used_at == T0
    authenticate(session, token, now=T0 + timedelta(minutes=2))
    assert stored.last_used_at == T0 + timedelta(minutes=2)


def test_a_member_is_added_with_their_permissions(
    session: Session, workspace: Workspace, owner: Member
) -> None:
    permissions = ["contacts.edit", "conversations.view_all", "contacts.edit"]
    member = add_member(session, workspace, "Ann@Example.com", " Ann ", "agent", permissions)
    assert (member.email, member.name, member.role) == ("ann@example.com", "Ann", "agent")
    assert member.permissions == ["contacts.edit", "conversations.view_all"]
    assert member.can("contacts.edit")
    assert not member.can("settings.manage")


def test_an_email_is_a_member_once_per_workspace(
    session: Session, workspace: Workspace, owner: Member
) -> None:
    add_member(session, workspace, "ann@example.com", "Ann", "agent")
    with pytest.raises(Conflict, match="already a member") as caught:
        add_member(session, workspace, "ann@example.com", "Ann again", "admin")
    assert caught.value.field == "email"
    # The failed insert rolled back only its savepoint: the session goes on.
    assert len(session.scalars(select(Member)).all()) == 2


@pytest.mark.parametrize("role", ["owner", "boss", ""])
def test_a_new_member_is_an_admin_or_an_agent(
    session: Session, workspace: Workspace, role: str
) -> None:
    with pytest.raises(Invalid) as caught:
        add_member(session, workspace, "ann@example.com", "Ann", role)
    assert caught.value.field == "role"


def test_an_unknown_permission_is_refused_by_name(session: Session, workspace: Workspace) -> None:
    with pytest.raises(Invalid, match=r"'contacts\.delete' is not a permission") as caught:
        add_member(session, workspace, "a@example.com", "Ann", "agent", ["contacts.delete"])
    assert (caught.value.field, caught.value.code) == ("permissions", "invalid_permissions")
    assert "conversations.view_all" in caught.value.message


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_set_permissions(
    session: Session, add_member: AddMember, role: str
) -> None:
    actor, agent = add_member(role=role), add_member(permissions=["contacts.edit"])
    set_permissions(session, actor, agent, ["conversation_tags.manage"])
    assert agent.permissions == ["conversation_tags.manage"]
    assert agent.can("conversation_tags.manage")
    assert not agent.can("contacts.edit")


def test_an_agent_cannot_set_permissions_even_their_own(
    session: Session, add_member: AddMember
) -> None:
    agent = add_member(permissions=["settings.manage"])
    with pytest.raises(Forbidden, match="owner or an admin"):
        set_permissions(session, agent, agent, ["conversations.view_all"])
    assert agent.permissions == ["settings.manage"]


def test_permissions_are_checked_before_anything_changes(
    session: Session, owner: Member, add_member: AddMember
) -> None:
    agent = add_member(permissions=["contacts.edit"])
    with pytest.raises(Invalid) as caught:
        set_permissions(session, owner, agent, ["contacts.edit", "everything"], role="admin")
    assert caught.value.field == "permissions"
    assert (agent.role, agent.permissions) == ("agent", ["contacts.edit"])


def test_roles_change_but_not_the_owners(
    session: Session, owner: Member, add_member: AddMember
) -> None:
    admin = add_member(role="admin")
    set_permissions(session, owner, admin, [], role="agent")
    assert admin.role == "agent"
    with pytest.raises(Conflict, match="owner stays the owner") as caught:
        set_permissions(session, owner, owner, [], role="admin")
    assert (caught.value.field, owner.role) == ("role", "owner")
    with pytest.raises(Invalid, match="not 'owner'"):
        set_permissions(session, owner, admin, [], role="owner")


def test_members_of_another_workspace_are_out_of_reach(
    session: Session, owner: Member, add_member: AddMember
) -> None:
    other = Workspace(name="Other")
    session.add(other)
    session.flush()
    stranger = add_member(workspace_id=other.id)
    with pytest.raises(NotFound):
        set_permissions(session, owner, stranger, ["contacts.edit"])
    with pytest.raises(NotFound) as caught:
        find_member(session, owner, stranger.id)
    assert caught.value.field == "member_id"
    assert find_member(session, owner, owner.id) is owner


def test_a_member_changes_their_list_settings(session: Session, add_member: AddMember) -> None:
    agent = add_member()
    assert (agent.show_visitor_tags, agent.prefer_remark_name) == (True, True)
    update_list_settings(session, agent, show_visitor_tags=False)
    assert (agent.show_visitor_tags, agent.prefer_remark_name) == (False, True)
    update_list_settings(session, agent, prefer_remark_name=False, show_visitor_tags=True)
    assert (agent.show_visitor_tags, agent.prefer_remark_name) == (True, False)


def test_list_settings_are_true_or_false(session: Session, add_member: AddMember) -> None:
    agent = add_member()
    with pytest.raises(Invalid) as caught:
        update_list_settings(session, agent, prefer_remark_name="no")  # type: ignore[arg-type]
    assert caught.value.field == "prefer_remark_name"
    assert agent.prefer_remark_name is True


@pytest.mark.parametrize(
    ("role", "listed", "allowed"),
    [
        ("owner", [], True),
        ("admin", [], True),
        ("agent", ["contacts.edit"], True),
        ("agent", ["settings.manage"], False),
    ],
)
def test_require_lets_through_only_who_holds_the_permission(
    add_member: AddMember, role: str, listed: list[str], allowed: bool
) -> None:
    member = add_member(role=role, permissions=listed)
    if allowed:
        require(member, "contacts.edit")
        return
    with pytest.raises(Forbidden, match=r"'contacts\.edit' permission") as caught:
        require(member, "contacts.edit")
    assert (caught.value.status, caught.value.code) == (403, "forbidden")
    assert member.email in caught.value.message


def test_require_refuses_a_permission_that_does_not_exist(owner: Member) -> None:
    with pytest.raises(ValueError, match="not a permission"):
        require(owner, "contacts.edits")


def test_permissions_come_as_a_list_of_names(
    session: Session, owner: Member, add_member: AddMember
) -> None:
    agent = add_member()
    with pytest.raises(Invalid, match="as a list") as caught:
        set_permissions(session, owner, agent, "contacts.edit")
    assert caught.value.field == "permissions"
