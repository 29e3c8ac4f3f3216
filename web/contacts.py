"""Contacts: the list with remark-name filters and search, detail, and agents' edits."""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from chat.contacts import delete_contact, edit_contact, get_contact, list_contacts
from chat.models import Contact, Member
from web import responses
from web.args import SEARCH_MAX, int_arg, text_arg
from web.auth import member_request
from web.bodies import BLANK, json_body, or_null, text
from web.responses import answer, read
from web.services import services

blueprint = Blueprint("contacts", __name__, url_prefix="/contacts")

EDIT_BODY = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "remark_name": or_null(text(100, blank=True)),
        "phone": or_null(text(40, blank=True)),
        "email": {"anyOf": [{**text(320), "format": "email"}, BLANK, {"type": "null"}]},
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
        remark_name=text_arg("remark_name", SEARCH_MAX),
        remark_contains=text_arg("remark_contains", SEARCH_MAX),
        search=text_arg("search", SEARCH_MAX),
        cursor=args.get("cursor"),
        limit=int_arg("limit", 50, 1, 200) or 50,
    )
    shown = [_contact(c, member) for c in found]
    return answer(responses.Contacts(contacts=shown, next_cursor=cursor))


@blueprint.get("/<id:contact_id>")
@member_request
def detail(session: Session, member: Member, contact_id: int) -> Response:
    """One contact."""
    return answer(_contact(get_contact(session, member, contact_id), member))


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
    changes = json_body(EDIT_BODY)
    return answer(_contact(edit_contact(session, member, contact_id, **changes), member))


def _contact(contact: Contact, member: Member) -> responses.Contact:
    shown = contact.display_name(prefer_remark=member.prefer_remark_name)
    return read(responses.Contact, contact, display_name=shown)
