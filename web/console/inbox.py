"""The inbox: the member's conversations by tab (mine, unassigned, all) and status, live.

`/inbox?tab=mine&status=ongoing` is a view of the list; `/inbox/rows` with the same query is
its live part (the tabs with their counts and the rows), which the page re-fetches when a
`conversation` or `contact` notice arrives, and every minute so that "3 min ago" moves on.
Without a tab, a member sees "mine" if they have a conversation of that status, else
"unassigned"; without a status, the ongoing ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chat.errors import Invalid
from chat.inbox_view import STATUSES, inbox_rows, tab_counts
from chat.models import Member
from web.console.base import blueprint, console_page, in_navigation, page
from web.console.messages import error_text
from web.services import services

in_navigation("console.inbox", _l("Inbox"), place=10)

TAB_LABELS = {"mine": _l("Mine"), "unassigned": _l("Unassigned"), "all": _l("All")}
STATUS_LABELS = {"ongoing": _l("Ongoing"), "ended": _l("Ended")}
# Alt+<key> opens a tab (letters: browsers on Linux switch their own tabs with Alt+1…8)
TAB_KEYS = {"mine": "M", "unassigned": "U", "all": "A"}
STATUS_KEY = "O"  # Alt+O: the other status
JUST_NOW = timedelta(minutes=1)


@blueprint.get("/inbox")
@console_page
def inbox(session: Session, member: Member) -> ResponseReturnValue:
    """The inbox page: a tab of the member's conversations, ongoing or ended."""
    return page("console/inbox.html", 200, **_view(session, member))


@blueprint.get("/inbox/rows")
@console_page
def inbox_rows_part(session: Session, member: Member) -> ResponseReturnValue:
    """The inbox's live part for the same query: the tabs with their counts, and the rows."""
    return page("console/inbox_rows.html", 200, **_view(session, member))


def conversation_url(conversation_id: int) -> str:
    """A conversation's own page (the conversation page's endpoint, once it is registered)."""
    if "console.conversation" in current_app.view_functions:
        return url_for("console.conversation", conversation_id=conversation_id)
    return f"/inbox/{conversation_id}"


def _view(session: Session, member: Member) -> dict[str, object]:
    status = request.args.get("status", "ongoing")
    if status not in STATUSES:
        status = "ongoing"
    counts = tab_counts(session, member, status)
    tab = request.args.get("tab", "")
    if tab not in counts:
        tab = "mine" if counts["mine"] else "unassigned"
    now = services().now()
    return {
        "tab": tab,
        "status_filter": status,  # not "status": page() takes that for the HTTP status
        "counts": counts,
        **_page_of(session, member, tab, status),
        "tab_labels": TAB_LABELS,
        "status_labels": STATUS_LABELS,
        "tab_keys": TAB_KEYS,
        "status_key": STATUS_KEY,
        "conversation_url": conversation_url,
        "ago": lambda iso: _ago(datetime.fromisoformat(iso), now),
        "exact": lambda iso: format_datetime(datetime.fromisoformat(iso), "medium"),
    }


def _page_of(session: Session, member: Member, tab: str, status: str) -> dict[str, object]:
    """The rows of the page the query's cursor names; the newest, and why, for a foreign one."""
    cursor = request.args.get("cursor") or None
    try:
        rows, next_cursor = inbox_rows(session, member, tab, status, cursor=cursor)
    except Invalid as err:
        rows, next_cursor = inbox_rows(session, member, tab, status)
        return {"rows": rows, "cursor": None, "next_cursor": next_cursor, "error": error_text(err)}
    return {"rows": rows, "cursor": cursor, "next_cursor": next_cursor, "error": None}


def _ago(at: datetime, now: datetime) -> str:
    """How long ago `at` was, in the member's language ("3 minutes ago")."""
    if now - at < JUST_NOW:
        return str(_("just now"))
    return str(format_timedelta(at - now, granularity="minute", add_direction=True))
