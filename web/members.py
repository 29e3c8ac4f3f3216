"""Members: who the caller is, their own list settings, and the team's permissions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.members import (
    add_member,
    find_member,
    issue_token,
    issue_token_for,
    member_tokens,
    require_owner,
    revoke_token,
    set_permissions,
    update_list_settings,
)
from chat.models import PERMISSIONS, Member, Workspace
from chat.permissions import require_admin
from web import responses
from web.auth import member_request
from web.bodies import json_body, text
from web.responses import answer, read

blueprint = Blueprint("members", __name__)

SETTINGS_BODY = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "show_visitor_tags": {"type": "boolean"},
        "prefer_remark_name": {"type": "boolean"},
    },
}
_PERMISSIONS = {"type": "array", "items": {"enum": sorted(PERMISSIONS)}, "uniqueItems": True}
NEW_MEMBER_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email", "name", "role"],
    "properties": {
        "email": {**text(320), "format": "email"},
        "name": text(200),
        "role": {"enum": ["admin", "agent"]},
        "permissions": _PERMISSIONS,
    },
}
PERMISSIONS_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["permissions"],
    "properties": {"permissions": _PERMISSIONS, "role": {"enum": ["admin", "agent"]}},
}


@blueprint.get("/me")
@member_request
def me(session: Session, member: Member) -> Response:
    """The calling member, with their permissions and list settings."""
    return answer(_member(member))


@blueprint.patch("/me/settings")
@member_request
def my_settings(session: Session, member: Member) -> Response:
    """The caller's own list settings: visitor tags shown, remark name first."""
    update_list_settings(session, member, **json_body(SETTINGS_BODY))
    return answer(_member(member))


@blueprint.get("/members")
@member_request
def index(session: Session, member: Member) -> Response:
    """The workspace's members."""
    found = session.scalars(
        select(Member).where(Member.workspace_id == member.workspace_id).order_by(Member.id)
    ).all()
    return answer(responses.Members(members=[_member(m) for m in found]))


@blueprint.post("/members")
@member_request
def create(session: Session, member: Member) -> Response:
    """Add an admin or agent (owner or admin only); their API token is shown this once."""
    require_admin(member)
    body = json_body(NEW_MEMBER_BODY)
    workspace = session.get(Workspace, member.workspace_id)
    assert workspace is not None  # a member always belongs to a workspace
    added = add_member(
        session, workspace, body["email"], body["name"], body["role"], body.get("permissions", [])
    )
    session.flush()
    token = issue_token(session, added)
    return answer(_member(added, responses.NewMember, api_token=token), 201)


@blueprint.put("/members/<id:member_id>/permissions")
@member_request
def permissions(session: Session, member: Member, member_id: int) -> Response:
    """Replace a member's permissions (and role); owner or admin only."""
    body = json_body(PERMISSIONS_BODY)
    target = find_member(session, member, member_id)
    set_permissions(session, member, target, body["permissions"], role=body.get("role"))
    return answer(_member(target))


@blueprint.get("/members/<id:member_id>/tokens")
@member_request
def tokens(session: Session, member: Member, member_id: int) -> Response:
    """A member's API tokens: prefix and times, never the token (owner only)."""
    target = find_member(session, member, member_id)
    require_owner(member)
    found = [read(responses.Token, t) for t in member_tokens(session, target)]
    return answer(responses.Tokens(tokens=found))


@blueprint.post("/members/<id:member_id>/tokens")
@member_request
def new_token(session: Session, member: Member, member_id: int) -> Response:
    """Issue a new API token for a member, the owner included; shown this once (owner only)."""
    target = find_member(session, member, member_id)
    token = issue_token_for(session, member, target)
    issued = member_tokens(session, target)[-1]
    return answer(read(responses.NewToken, issued, api_token=token), 201)


@blueprint.delete("/members/<id:member_id>/tokens/<id:token_id>")
@member_request
def revoke(session: Session, member: Member, member_id: int, token_id: int) -> tuple[str, int]:
    """Revoke one of a member's API tokens at once (owner only)."""
    revoke_token(session, member, find_member(session, member, member_id), token_id)
    return "", 204


def _member(
    member: Member, model: type[responses.Member] = responses.Member, **given: Any
) -> responses.Member:
    return read(model, member, permissions=sorted(member.permissions), **given)
