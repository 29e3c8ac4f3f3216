"""Inviting members to the console, and new password links for members who lost theirs.

An invitation is a new member (`chat.members.add_member`) and a one-time password link
(`chat.signin.issue_password_link`); how the link reaches the person (email, or the inviter
handing it over) is the caller's affair. Only the owner or an admin invites or issues links,
and only the owner issues one for the owner: a link is the key to the account it is for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from chat.errors import Forbidden, NotFound
from chat.members import add_member
from chat.models import Member, Workspace
from chat.permissions import require_admin
from chat.signin import issue_password_link

__all__ = ["invite_member", "password_link_for"]


def invite_member(
    session: Session,
    actor: Member,
    email: str,
    name: str,
    role: str,
    permissions: Iterable[object],
    now: datetime,
) -> tuple[Member, str]:
    """A new admin or agent added by `actor` (owner or admin), and their password link token."""
    require_admin(actor)
    workspace = session.get(Workspace, actor.workspace_id)
    assert workspace is not None  # members are deleted with their workspace
    member = add_member(session, workspace, email, name, role, permissions)
    session.flush()
    return member, issue_password_link(session, member, now)


def password_link_for(session: Session, actor: Member, member: Member, now: datetime) -> str:
    """A new password link token for `member`, issued by the owner or an admin; their older
    links keep working until one of them is used."""
    require_admin(actor)
    if member.workspace_id != actor.workspace_id:
        raise NotFound(f"there is no member {member.id} in this workspace", field="member_id")
    if member.role == "owner" and actor.id != member.id:
        raise Forbidden("only the workspace owner issues a password link for the owner")
    return issue_password_link(session, member, now)
