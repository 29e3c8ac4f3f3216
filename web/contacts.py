"""Contacts: the list with remark-name filters and search, detail, and agents' edits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from chat.contacts import delete_contact, edit_contact, get_contact, list_contacts
from chat.models import Contact, Member
from web.args import int_arg
from web.auth import member_request
from web.bodies import json_body
from web.services import services

blueprint = Blueprint("contacts", __name__, url_prefix="/contacts")

_EDIT = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "remark_name": {"type": ["string", "null"], "maxLength": 100},
        "phone": {"type": ["string", "null"], "maxLength": 40},
        "email": {"type": ["string", "null"], "maxLength": 320},
    },
}


@blueprint.get("")
@member_request
def index(session: Session, member: Member) -> Response:
    """Contacts the caller may see, newest first; filter by remark name, or search."""
    args = request.args
    found, cursor = list_contacts(
        session,
        member,
        remark_name=args.get("remark_name"),
        remark_contains=args.get("remark_contains"),
        search=args.get("search"),
        cursor=args.get("cursor"),
        limit=int_arg("limit", 50, 1, 200) or 50,
    )
    return jsonify({"contacts": [_contact(c, member) for c in found], "next_cursor": cursor})


@blueprint.get("/<id:contact_id>")
@member_request
def detail(session: Session, member: Member, contact_id: int) -> Response:
    """One contact."""
    return jsonify(_contact(get_contact(session, member, contact_id), member))


@blueprint.delete("/<id:contact_id>")
@member_request
def delete(session: Session, member: Member, contact_id: int) -> tuple[str, int]:
    """Delete a contact with their conversations and messages (a privacy request; the owner
    or an admin only); the engine forgets them too."""
    delete_contact(session, member, contact_id, services().now())
    return "", 204


@blueprint.patch("/<id:contact_id>")
@member_request
def edit(session: Session, member: Member, contact_id: int) -> Response:
    """Change the remark name, phone or email (needs contacts.edit); null clears one."""
    changes = json_body(_EDIT)
    return jsonify(_contact(edit_contact(session, member, contact_id, **changes), member))


def _contact(contact: Contact, member: Member) -> dict[str, Any]:
    return {
        "id": contact.id,
        "display_name": contact.display_name(prefer_remark=member.prefer_remark_name),
        "name": contact.name,
        "remark_name": contact.remark_name,
        "phone": contact.phone,
        "email": contact.email,
        "tags": list(contact.tags),
        "first_seen_at": contact.first_seen_at.isoformat(),
        "last_seen_at": contact.last_seen_at.isoformat(),
    }
