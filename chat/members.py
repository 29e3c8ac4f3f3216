"""Workspaces, their members, the members' API tokens and their conversation-list settings.

An API token is `pk_` and 43 random URL-safe characters. Parley keeps its SHA-256 and its first
eight characters (to tell a member's tokens apart), never the token: it is shown once, when made.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import cast, get_args

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chat.contacts import normalise_email
from chat.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from chat.models import ApiToken, Member, Role, Workspace, utcnow
from chat.permissions import checked_permissions, require, require_admin

__all__ = [
    "add_member",
    "authenticate",
    "create_workspace",
    "find_member",
    "issue_token",
    "issue_token_for",
    "member_tokens",
    "require",
    "require_owner",
    "revoke_token",
    "set_permissions",
    "token_digest",
    "update_list_settings",
]

TOKEN_PREFIX = "pk_"
NAME_MAX = 200
_SHOWN = 8  # "pk_" and five more characters, as ApiToken.prefix holds
_TOKEN_SHAPE = re.compile(r"pk_[A-Za-z0-9_-]{20,200}")
# A write per request would serialise a client's concurrent requests on the token's row.
_TOUCH_EVERY = timedelta(minutes=1)
_ROLES: tuple[str, ...] = get_args(Role)


def create_workspace(
    session: Session, name: str, owner_email: str, owner_name: str
) -> tuple[Workspace, Member, str]:
    """A new workspace, its owner and the owner's first API token (shown only this once)."""
    workspace = Workspace(name=_name("name", name))
    owner = Member(
        email=_email("owner_email", owner_email),
        name=_name("owner_name", owner_name),
        role="owner",
        permissions=[],
    )
    session.add(workspace)
    session.flush()
    owner.workspace_id = workspace.id
    session.add(owner)
    session.flush()
    return workspace, owner, issue_token(session, owner)


def issue_token(session: Session, member: Member) -> str:
    """A new API token for `member`; only its hash is kept, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(member_id=member.id, token_hash=token_digest(token), prefix=token[:_SHOWN])
    )
    session.flush()
    return token


def issue_token_for(session: Session, owner: Member, member: Member) -> str:
    """A new API token for `member` (the owner's own included), issued by the owner; the
    member's other tokens keep working until revoked."""
    require_owner(owner)
    return issue_token(session, member)


def member_tokens(session: Session, member: Member) -> list[ApiToken]:
    """The member's API tokens, oldest first (prefixes and times only: tokens are not kept)."""
    query = select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.id)
    return list(session.scalars(query))


def revoke_token(session: Session, owner: Member, member: Member, token_id: int) -> None:
    """Revoke one of `member`'s tokens at once; the owner only. Any token may go, the one
    this call came with included: the owner can get a new one with `parley members token`."""
    require_owner(owner)
    token = session.get(ApiToken, token_id)
    if token is None or token.member_id != member.id:
        raise NotFound(f"member {member.id} has no token {token_id}", field="token_id")
    session.delete(token)
    session.flush()


def require_owner(member: Member) -> None:
    """Raise `Forbidden` unless `member` is the workspace's owner."""
    if member.role != "owner":
        raise Forbidden(f"only the workspace owner manages API tokens, and {member.email} is not")


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> Member:
    """The member whose API token this is; `Unauthenticated` for anything else."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        raise Unauthenticated("this is not a Parley API token: those start with pk_")
    query = (
        select(ApiToken, Member)
        .join(Member, ApiToken.member_id == Member.id)
        .where(ApiToken.token_hash == token_digest(token))
    )
    found = session.execute(query).one_or_none()
    if found is None:
        raise Unauthenticated("this API token is not known: it may have been revoked")
    api_token, member = found
    _touch(session, api_token, now or utcnow())
    return member


def add_member(
    session: Session,
    workspace: Workspace,
    email: str,
    name: str,
    role: str,
    permissions: Iterable[object] = (),
) -> Member:
    """A new admin or agent of `workspace`; `Conflict` if the email is already a member's.

    It checks no actor: the API calls `chat.permissions.require_admin` on the caller first.
    """
    if role not in _ROLES or role == "owner":
        raise Invalid("role", f"a new member is an 'admin' or an 'agent', not {role!r}")
    member = Member(
        workspace_id=workspace.id,
        email=_email("email", email),
        name=_name("name", name),
        role=role,
        permissions=checked_permissions(permissions),
    )
    try:
        with session.begin_nested():
            session.add(member)
    except IntegrityError as error:
        message = f"{member.email} is already a member of this workspace"
        raise Conflict(message, field="email") from error
    return member


def find_member(session: Session, actor: Member, member_id: int) -> Member:
    """The member `member_id` of the actor's workspace; `NotFound` for any other id."""
    member = session.get(Member, member_id)
    if member is None or member.workspace_id != actor.workspace_id:
        raise NotFound(f"there is no member {member_id} in this workspace", field="member_id")
    return member


def set_permissions(
    session: Session,
    actor: Member,
    member: Member,
    permissions: Iterable[object],
    *,
    role: str | None = None,
) -> Member:
    """Replace `member`'s permissions (and role, when given); only an owner or admin may."""
    require_admin(actor)
    if member.workspace_id != actor.workspace_id:
        raise NotFound(f"there is no member {member.id} in this workspace", field="member_id")
    names = checked_permissions(permissions)
    if role is not None and role != member.role:
        _check_role_change(member, role)
        member.role = cast(Role, role)  # checked against Role just above
    member.permissions = names
    session.flush()
    return member


def update_list_settings(
    session: Session,
    member: Member,
    *,
    show_visitor_tags: bool | None = None,
    prefer_remark_name: bool | None = None,
) -> Member:
    """Change how the conversation list looks to `member` (only ever their own); None: unchanged."""
    for field, value in (
        ("show_visitor_tags", show_visitor_tags),
        ("prefer_remark_name", prefer_remark_name),
    ):
        if value is not None and not isinstance(value, bool):
            raise Invalid(field, f"{field} is true or false, not {value!r}")
    if show_visitor_tags is not None:
        member.show_visitor_tags = show_visitor_tags
    if prefer_remark_name is not None:
        member.prefer_remark_name = prefer_remark_name
    session.flush()
    return member


def _touch(session: Session, api_token: ApiToken, at: datetime) -> None:
    if api_token.last_used_at is None or at - api_token.last_used_at >= _TOUCH_EVERY:
        api_token.last_used_at = at
        session.flush()


def _check_role_change(member: Member, role: str) -> None:
    if member.role == "owner":
        message = "the workspace owner stays the owner; their role cannot be changed"
        raise Conflict(message, field="role", code="invalid_role")
    if role not in _ROLES or role == "owner":
        raise Invalid("role", f"a member is an 'admin' or an 'agent', not {role!r}")


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which Parley keeps a token it hands out."""
    return hashlib.sha256(token.encode()).hexdigest()


def _email(field: str, raw: str) -> str:
    try:
        address = normalise_email(raw)
    except Invalid as error:
        raise Invalid(field, error.message) from error
    if address is None:
        raise Invalid(field, "an email address is needed")
    # members sign in by address: Ana@Example.com and ana@example.com are one person
    return address.lower()


def _name(field: str, raw: str) -> str:
    value = (raw or "").strip() if isinstance(raw, str) else ""
    if not value:
        raise Invalid(field, "a name is needed")
    if len(value) > NAME_MAX:
        raise Invalid(field, f"a name has at most {NAME_MAX} characters; this one has {len(value)}")
    return value
