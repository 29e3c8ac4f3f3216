"""Conversation management: counts and lists of conversations by agent and reception day.

The days are calendar days in UTC (see `web.console.listing`): "from" is inclusive from
00:00 UTC, "to" includes its whole day, so one day is from = to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypedDict

from flask import request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chat.errors import ChatError, Invalid
from chat.inbox import dashboard, list_conversations
from chat.models import Member
from chat.permissions import VIEW_ALL
from web.console.base import blueprint, console_page, in_navigation
from web.console.listing import agents, listing_page, wants_fragment
from web.console.messages import error_text

PAGE_SIZE = 50
STATUSES = ("ongoing", "ended")
_UNITS = (86400, 3600, 60, 1)  # a day, an hour, a minute, a second
# the form's field at fault; "page" for the rest (a cursor from an old link)
_FIELDS = {"received_from": "from", "received_to": "to", "assignee_id": "agent"}

in_navigation("console.management", _l("Conversation management"), place=40)


@blueprint.get("/management")
@console_page
def management(session: Session, member: Member) -> ResponseReturnValue:
    """The dashboard and the ongoing and ended lists under the agent and day filters."""
    given = {key: request.args.get(key, "").strip() for key in ("agent", "from", "to")}
    members, view_all = agents(session, member), member.can(VIEW_ALL)
    if not view_all:
        given["agent"] = str(member.id)  # their own are all they see: say so in the filter
    context: dict[str, Any] = {
        "given": given,
        "members": members,
        "view_all": view_all,
        "errors": {},
    }
    template = "console/management_body.html" if wants_fragment() else "console/management.html"
    try:
        filters = _filters(given)
        context["counts"] = dashboard(session, member, **filters)
        context["lists"] = {status: _list(session, member, status, filters) for status in STATUSES}
    except ChatError as err:
        context["errors"] = {_FIELDS.get(err.field or "", "page"): error_text(err)}
        return listing_page(template, 422, **context)
    context["names"] = {someone.id: someone.name for someone in members}
    context["duration"] = duration_text
    return listing_page(template, **context)


class _Chosen(TypedDict):
    """The filters chosen, as `dashboard` and `list_conversations` take them."""

    assignee_id: int | None
    received_from: datetime | None
    received_to: datetime | None


def _filters(given: dict[str, str]) -> _Chosen:
    start = _day(given["from"], "received_from")
    end = _day(given["to"], "received_to", days_after=1)  # the whole last day
    if start and end and end <= start:
        # the chat layer takes an empty range; on this form the last day is before the first
        raise Invalid("received_to", "the last day is before the first day")
    return {"assignee_id": _agent(given["agent"]), "received_from": start, "received_to": end}


def _list(session: Session, member: Member, status: str, filters: _Chosen) -> dict[str, Any]:
    cursor = request.args.get(f"{status}_cursor") or None
    rows, next_cursor = list_conversations(
        session, member, status=status, cursor=cursor, limit=PAGE_SIZE, **filters
    )
    return {
        "rows": rows,
        "cursor": cursor,
        "first_url": _page_url(status, None) if cursor else None,
        "next_url": _page_url(status, next_cursor) if next_cursor else None,
    }


def _page_url(status: str, cursor: str | None) -> str:
    """This page with the same filters and the other list's page, and `status`'s at `cursor`."""
    kept: dict[str, Any] = {key: value for key, value in request.args.items() if value}
    kept.pop(f"{status}_cursor", None)
    if cursor:
        kept[f"{status}_cursor"] = cursor
    return url_for("console.management", **kept)


def _day(raw: str, field: str, days_after: int = 0) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time(), UTC) + timedelta(days_after)
    except (ValueError, OverflowError) as err:
        message = f"{raw!r} is not a date such as 2026-12-01"
        raise Invalid(field, message, code="invalid_date") from err


def _agent(raw: str) -> int | None:
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 16):
        raise Invalid("assignee_id", f"{raw!r} is not a member id")
    return int(raw)


def duration_text(seconds: int | None) -> str:
    """A time span as agents read it, in its two largest units ("2 min 5 s"); "—" if none."""
    if seconds is None:
        return "—"
    counts = []
    for size in _UNITS:
        count, seconds = divmod(seconds, size)
        counts.append((size, count))
    first = next((i for i, (_size, count) in enumerate(counts) if count), len(_UNITS) - 1)
    shown = [counts[first]] + [pair for pair in counts[first + 1 : first + 2] if pair[1]]
    return " ".join(_unit(size, count) for size, count in shown)


def _unit(size: int, count: int) -> str:
    if size == 86400:
        return str(_("%(n)s d", n=count))
    if size == 3600:
        return str(_("%(n)s h", n=count))
    if size == 60:
        return str(_("%(n)s min", n=count))
    return str(_("%(n)s s", n=count))
