"""Members: who the caller is, their own list settings, and the team's permissions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
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
from chat.models import ApiToken, Member, Workspace
from chat.permissions import require_admin
from web.auth import member_request
from web.bodies import json_body

blueprint = Blueprint("members", __name__)

_SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "show_visitor_tags": {"type": "boolean"},
        "prefer_remark_name": {"type": "boolean"},
    },
}
_PERMISSIONS = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
_NEW = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email", "name", "role"],
    "properties": {
        "email": {"type": "string", "maxLength": 320},
        "name": {"type": "string", "maxLength": 200},
        "role": {"enum": ["admin", "agent"]},
        "permissions": _PERMISSIONS,
    },
}
_EDIT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["permissions"],
    "properties": {"permissions": _PERMISSIONS, "role": {"enum": ["admin", "agent"]}},
}


@blueprint.get("/me")
@member_request
def me(session: Session, member: Member) -> Response:
    """The calling member, with their permissions and list settings."""
    return jsonify(_member(member))


@blueprint.patch("/me/settings")
@member_request
def my_settings(session: Session, member: Member) -> Response:
    """The caller's own list settings: visitor tags shown, remark name first."""
    update_list_settings(session, member, **json_body(_SETTINGS))
    return jsonify(_member(member))


@blueprint.get("/members")
@member_request
def index(session: Session, member: Member) -> Response:
    """The workspace's members."""
    found = session.scalars(
        select(Member).where(Member.workspace_id == member.workspace_id).order_by(Member.id)
    ).all()
    return jsonify({"members": [_member(m) for m in found]})


@blueprint.post("/members")
@member_request
def create(session: Session, member: Member) -> tuple[Response, int]:
    """Add an admin or agent (owner or admin only); their API token is shown this once."""
    require_admin(member)
    body = json_body(_NEW)
    workspace = session.get(Workspace, member.workspace_id)
    assert workspace is not None  # a member always belongs to a workspace
    added = add_member(
        session, workspace, body["email"], body["name"], body["role"], body.get("permissions", [])
    )
    session.flush()
    return jsonify({**_member(added), "api_token": issue_token(session, added)}), 201


@blueprint.put("/members/<id:member_id>/permissions")
@member_request
def permissions(session: Session, member: Member, member_id: int) -> Response:
    """Replace a member's permissions (and role); owner or admin only."""
    body = json_body(_EDIT)
    target = find_member(session, member, member_id)
    set_permissions(session, member, target, body["permissions"], role=body.get("role"))
    return jsonify(_member(target))


@blueprint.get("/members/<id:member_id>/tokens")
@member_request
def tokens(session: Session, member: Member, member_id: int) -> Response:
    """A member's API tokens: prefix and times, never the token (owner only)."""
    target = find_member(session, member, member_id)
    require_owner(member)
    return jsonify({"tokens": [_token(t) for t in member_tokens(session, target)]})


@blueprint.post("/members/<id:member_id>/tokens")
@member_request
def new_token(session: Session, member: Member, member_id: int) -> tuple[Response, int]:
    """Issue a new API token for a member, the owner included; shown this once (owner only)."""
    target = find_member(session, member, member_id)
    token = issue_token_for(session, member, target)
    issued = member_tokens(session, target)[-1]
    return jsonify({**_token(issued), "api_token": token}), 201


@blueprint.delete("/members/<id:member_id>/tokens/<id:token_id>")
@member_request
def revoke(session: Session, member: Member, member_id: int, token_id: int) -> tuple[str, int]:
    """Revoke one of a member's API tokens at once (owner only)."""
    revoke_token(session, member, find_member(session, member, member_id), token_id)
    return "", 204


def _token(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }


def _member(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "permissions": sorted(member.permissions),
        "show_visitor_tags": member.show_visitor_tags,
        "prefer_remark_name": member.prefer_remark_name,
    }
