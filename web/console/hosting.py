"""Bot hosting: switch the bot on or off for chosen ongoing conversations, or all assigned ones.

Hosting on means the flows answer the visitor; off means people do. Which conversations an
agent may switch is the chat layer's rule (`chat.inbox_actions.set_hosting`): the ones they
see; "all assigned" takes the ongoing ones with an agent.
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chat.errors import ChatError, Invalid
from chat.inbox import list_conversations
from chat.inbox_actions import all_assigned_changes, set_hosting
from chat.models import Member
from web.console.base import blueprint, console_page, in_navigation
from web.console.listing import agents, listing_page, wants_fragment
from web.console.messages import error_text
from web.services import services

PAGE_SIZE = 50

in_navigation("console.hosting", _l("Bot hosting"), place=50)


@blueprint.get("/bot-hosting")
@console_page
def hosting(session: Session, member: Member) -> ResponseReturnValue:
    """The ongoing conversations the member sees, with their hosting, a page at a time."""
    return _listed(session, member, request.args.get("cursor"), [])


@blueprint.post("/bot-hosting")
@console_page
def switch(session: Session, member: Member) -> ResponseReturnValue:
    """Switch hosting for the chosen conversations, or for all assigned (`all=1`)."""
    form = request.form
    chosen = form.getlist("conversation_ids")
    try:
        on = _direction(form.get("hosting", ""))
        changed = set_hosting(
            session,
            member,
            conversation_ids=None if form.get("all") == "1" else _ids(chosen),
            all_assigned=form.get("all") == "1",
            on=on,
            at=services().now(),
        )
    except ChatError as err:
        # nothing changed: show the list as it was, with the agent's choice kept
        error = error_text(err)
        return _listed(session, member, form.get("cursor"), chosen, err.status, error=error)
    return _listed(session, member, form.get("cursor"), [], result=result_text(len(changed), on))


@blueprint.get("/bot-hosting/all")
@console_page
def confirm_all(session: Session, member: Member) -> ResponseReturnValue:
    """The confirmation of "all assigned", naming how many conversations it would change."""
    try:
        on = _direction(request.args.get("hosting", ""))
    except ChatError as err:
        return listing_page("console/hosting_all.html", 422, error=error_text(err))
    count = all_assigned_changes(session, member, on=on)
    return listing_page("console/hosting_all.html", on=on, count=count)


def _listed(
    session: Session,
    member: Member,
    cursor: str | None,
    selected: list[str],  # ticked: what the agent chose, when the switch was refused
    status: int = 200,
    **context: object,
) -> ResponseReturnValue:
    cursor = cursor or None
    try:
        rows, next_cursor = list_conversations(
            session, member, status="ongoing", cursor=cursor, limit=PAGE_SIZE
        )
    except ChatError as err:  # a cursor that is not Parley's (an old or edited link)
        rows, next_cursor, status, context["error"] = [], None, 422, error_text(err)
    template = "console/hosting_list.html" if wants_fragment() else "console/hosting.html"
    return listing_page(
        template,
        status,
        rows=rows,
        cursor=cursor,
        next_cursor=next_cursor,
        selected=set(selected),
        names={someone.id: someone.name for someone in agents(session, member)},
        **context,
    )


def _ids(raw: list[str]) -> list[object]:
    # A form sends text; the chat layer checks the numbers (and refuses what is left as text).
    return [int(value) if value.isascii() and value.isdigit() else value for value in raw]


def _direction(raw: str) -> bool:
    if raw not in ("on", "off"):
        raise Invalid("on", f"hosting is 'on' or 'off', not {raw!r}")
    return raw == "on"


def result_text(count: int, on: bool) -> str:
    """What the agent is told once hosting was switched for `count` conversations."""
    if count == 0:
        if on:
            return str(_("Nothing changed: these conversations already had bot hosting on."))
        return str(_("Nothing changed: these conversations already had bot hosting off."))
    if count == 1:
        if on:
            return str(_("Hosting switched on for 1 conversation."))
        return str(_("Hosting switched off for 1 conversation."))
    if on:
        return str(_("Hosting switched on for %(n)s conversations.", n=count))
    return str(_("Hosting switched off for %(n)s conversations.", n=count))
