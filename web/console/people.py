"""Contacts: the people who wrote in, found by search or remark name, a page at a time."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chat.contacts import list_contacts
from chat.directory import contact_rows
from chat.errors import ChatError
from chat.models import Member
from web.console.base import blueprint, console_page, in_navigation
from web.console.listing import listing_page, wants_fragment
from web.console.messages import error_text

PAGE_SIZE = 50
FILTERS = ("search", "remark", "exact")  # exact=1: the remark name is the whole remark name

in_navigation("console.people", _l("Contacts"), place=30)


@blueprint.get("/people")
@console_page
def people(session: Session, member: Member) -> ResponseReturnValue:
    """The contacts the member sees, newest first, under the search and remark-name filters."""
    given = {key: request.args.get(key, "").strip() for key in FILTERS}
    remark, exact = given["remark"] or None, given["exact"] == "1"
    cursor = request.args.get("cursor") or None
    template = "console/people_results.html" if wants_fragment() else "console/people.html"
    shown: dict[str, Any] = {
        "given": given,
        "kept": {key: value for key, value in given.items() if value},
        "show_tags": member.show_visitor_tags,
    }
    try:
        contacts, next_cursor = list_contacts(
            session,
            member,
            search=given["search"] or None,
            remark_name=remark if exact else None,
            remark_contains=None if exact else remark,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
    except ChatError as err:  # a cursor that is not Parley's (an old or edited link)
        return listing_page(template, 422, error=error_text(err), rows=[], **shown)
    rows = contact_rows(session, member, contacts)
    return listing_page(template, rows=rows, cursor=cursor, next_cursor=next_cursor, **shown)
