"""Settings → Messenger: connected Facebook Pages, connecting one, and contact syncs.

The forms are checked by the API's own schemas and go through the same services
(`channels.messenger.pages`, `channels.messenger.sync`). A Page's token is taken, never shown
back. A running sync's progress re-fetches itself every 2 seconds (htmx polling: the
progress is a row the workers update, not an event the live stream carries); once the sync
is done or failed, the fragment comes back without the trigger and the polling stops.
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from channels.messenger.pages import (
    connect_page,
    latest_sync,
    own_page,
    own_sync,
    workspace_pages,
)
from channels.messenger.sync import start_sync
from chat.errors import ChatError, Unauthenticated
from chat.models import Member, MessengerSync
from chat.permissions import require
from web.bodies import checked_body
from web.console.base import blueprint, check_csrf, console_page, page, to_sign_in
from web.console.settings import MANAGE, forbidden_page, refusal, section_page, signed_in
from web.errors import ApiError
from web.messenger import PAGE_BODY, SYNC_BODY
from web.services import services

RUNNING = ("queued", "running")  # the states in which the progress polls
STATUS = {
    "queued": _l("Waiting for a worker"),
    "running": _l("Running"),
    "done": _l("Done"),
    "failed": _l("Failed"),
}
SCOPES = {"recent": _l("The 100 most recent contacts"), "all": _l("All contacts")}
_NAMES = {"statuses": STATUS, "scopes": SCOPES, "running": RUNNING}


@blueprint.get("/settings/messenger")
@console_page
def settings_messenger(session: Session, member: Member) -> ResponseReturnValue:
    """The connected Pages, each with its latest sync, and the form to connect one."""
    if not member.can(MANAGE):
        return forbidden_page()
    return section_page("console/settings_messenger.html", **_pages(session, member), **_NAMES)


@blueprint.post("/settings/messenger/pages")
def settings_connect_page() -> ResponseReturnValue:
    """Connect a Page by its id, name and access token, as POST /channels/messenger/pages does
    (the Graph API is called outside any transaction, so this is no `console_page`)."""
    check_csrf()
    form = {key: request.form.get(key, "").strip() for key in ("page_id", "name", "access_token")}
    try:
        with services().sessions() as session:
            member = signed_in(session)
        body = checked_body(PAGE_BODY, form)
        connection = connect_page(
            services().sessions,
            services().graph(),
            signed_in,
            (body["page_id"], body["name"], body["access_token"]),
            services().now,
        )
    except Unauthenticated:
        return to_sign_in()
    except (ChatError, ApiError) as err:
        del form["access_token"]  # never shown back, not even after a refusal
        return _pages_page(member, 422, form=form, errors=refusal(err))
    return _pages_page(member, connection=connection)


@blueprint.post("/settings/messenger/pages/<page_id>/syncs")
@console_page
def settings_start_sync(session: Session, member: Member, page_id: str) -> ResponseReturnValue:
    """Start importing a Page's contacts (the 100 most recent, or all); its progress."""
    try:
        require(member, MANAGE)
        scope = checked_body(SYNC_BODY, {"scope": request.form.get("scope", "recent")})["scope"]
        job = start_sync(session, own_page(session, member, page_id), scope, services().now())
    except (ChatError, ApiError) as err:
        return page("console/settings_sync.html", 422, errors=refusal(err), **_NAMES)
    return _progress(job, 202)


@blueprint.get("/settings/messenger/syncs/<id:sync_id>")
@console_page
def settings_sync(session: Session, member: Member, sync_id: int) -> ResponseReturnValue:
    """A sync's progress: pages fetched, contacts and messages imported, its state."""
    try:
        require(member, MANAGE)
        job = own_sync(session, member, sync_id)
    except ChatError as err:
        return page("console/settings_sync.html", 404, errors=refusal(err), **_NAMES)
    return _progress(job)


def _pages_page(member: Member, status: int = 200, /, **context: object) -> ResponseReturnValue:
    """The Pages part of the section again, after connecting one (or not: the form, why)."""
    with services().sessions() as session:
        found = _pages(session, member)
    return page("console/settings_messenger_body.html", status, **found, **context, **_NAMES)


def _pages(session: Session, member: Member) -> dict[str, object]:
    pages = workspace_pages(session, member)
    return {"pages": [(p, latest_sync(session, p)) for p in pages]}


def _progress(job: MessengerSync, status: int = 200) -> ResponseReturnValue:
    return page("console/settings_sync.html", status, job=job, **_NAMES)
