"""The inbox: the conversations the signed-in member sees, latest activity first."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chat.inbox import list_conversations
from chat.models import Member
from web.console.base import blueprint, console_page, in_navigation, page

in_navigation("console.inbox", _l("Inbox"), place=10)


@blueprint.get("/inbox")
@console_page
def inbox(session: Session, member: Member) -> ResponseReturnValue:
    """The member's conversation list."""
    rows, _cursor = list_conversations(session, member, status="ongoing")
    return page("console/inbox.html", rows=rows)
