"""What the contact, management and bot-hosting pages share: how rows link, name and date.

Times are shown in UTC, marked so: members have no timezone of their own yet, and one clock
for the whole team keeps the management page's day filters and the rows' times in agreement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, request
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from chat.directory import workspace_members
from chat.models import Member
from chat.permissions import VIEW_ALL
from web.console.base import page

CHANNELS: dict[str, LazyString] = {"widget": _l("Website widget"), "messenger": _l("Messenger")}


def utc_time(at: datetime | str) -> str:
    """`at` (or its ISO 8601 text, as chat rows hold times) to the minute, in UTC."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def agents(session: Session, member: Member) -> list[Member]:
    """The members whose conversations `member` sees: all, or with no view-all only themselves."""
    return workspace_members(session, member) if member.can(VIEW_ALL) else [member]


def wants_fragment() -> bool:
    """Whether htmx asked for a part of the page (a filter, a page turn, a live re-fetch)."""
    return request.headers.get("HX-Request-Type") == "partial"


def listing_page(template: str, status: int = 200, **context: Any) -> Response:
    """`page` with the helpers these pages' templates use."""
    return page(
        template,
        status,
        utc_time=utc_time,
        channels=CHANNELS,
        fragment=wants_fragment(),
        **context,
    )
