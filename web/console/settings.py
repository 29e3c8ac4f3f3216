"""Settings: the member's own (list settings, language) and, with `settings.manage`, the
workspace's new-message email alerts. The team and Messenger have modules of their own
(settings_team.py, settings_messenger.py); this one holds what the three share.
"""

from __future__ import annotations

from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from chat.errors import ChatError, Invalid
from chat.members import update_list_settings
from chat.models import Member, Workspace
from chat.notifications import change_notification_settings
from chat.signin import signed_in_member
from web.bodies import checked_body
from web.console.base import (
    SESSION_COOKIE,
    SignedIn,
    blueprint,
    console_page,
    in_navigation,
    page,
)
from web.console.i18n import LANGUAGES
from web.console.messages import TEXTS, error_text
from web.errors import ApiError
from web.notifications import MAX_WAIT_MINUTES, SETTINGS_BODY
from web.services import services

MANAGE = "settings.manage"
# The sections of Settings, in the order the section navigation lists them; True: needs MANAGE.
SECTIONS: list[tuple[str, LazyString, bool]] = [
    ("console.settings_me", _l("Me"), False),
    ("console.settings_team", _l("Team"), True),
    ("console.settings_alerts", _l("Alerts"), True),
    ("console.settings_messenger", _l("Messenger"), True),
]

in_navigation("console.settings", _l("Settings"), place=90)


@blueprint.get("/settings")
@console_page
def settings(_session: Session, _member: Member) -> ResponseReturnValue:
    """Settings open on the member's own section, which every member has."""
    return redirect(url_for("console.settings_me"))


@blueprint.route("/settings/me", methods=["GET", "POST"])
@console_page
def settings_me(session: Session, member: Member) -> ResponseReturnValue:
    """The member's own list settings and console language."""
    if request.method == "POST":
        update_list_settings(
            session,
            member,
            show_visitor_tags="show_visitor_tags" in request.form,
            prefer_remark_name="prefer_remark_name" in request.form,
        )
        language = request.form.get("language", "")
        if language in LANGUAGES:
            member.language = language
        # a new page, so that it is written in the language just chosen
        return redirect(url_for("console.settings_me", saved=1))
    return section_page("console/settings_me.html", member=member, saved="saved" in request.args)


@blueprint.route("/settings/alerts", methods=["GET", "POST"])
@console_page
def settings_alerts(session: Session, member: Member) -> ResponseReturnValue:
    """New-message email alerts: on or off, and after how many minutes of waiting."""
    if not member.can(MANAGE):
        return forbidden_page()
    workspace = session.get(Workspace, member.workspace_id)
    limits = {"max_minutes": MAX_WAIT_MINUTES}
    if request.method == "GET":
        return section_page("console/settings_alerts.html", workspace=workspace, **limits)
    minutes = request.form.get("after_minutes", "").strip()
    form = {"email": "email" in request.form, "after_minutes": minutes}
    try:
        body = checked_body(SETTINGS_BODY, {**form, "after_minutes": _whole(minutes)})
    except ApiError as err:
        return page(
            "console/settings_alerts_form.html", 422, form=form, errors=refusal(err), **limits
        )
    workspace = change_notification_settings(session, member, **body)
    return page("console/settings_alerts_form.html", workspace=workspace, saved=True, **limits)


def section_page(template: str, status: int = 200, /, **context: object) -> ResponseReturnValue:
    """A Settings section: `template` with the sections the signed-in member may open."""
    member: SignedIn = g.parley_member
    sections = [(e, label) for e, label, manage in SECTIONS if not manage or member.can(MANAGE)]
    return page(template, status, sections=sections, **context)


def forbidden_page() -> ResponseReturnValue:
    """The page for a section that needs `settings.manage`, which the member lacks."""
    return section_page("console/settings_forbidden.html", 403)


def refusal(err: ChatError | ApiError) -> dict[str, str]:
    """Where and what to tell the agent about a refusal (the chat layer's, or the API's
    schema's): `{field: text}` in their language, `form` for one of no field."""
    field = err.field or "form"
    if isinstance(err, ApiError):
        err = Invalid(field, err.message)
    specific = f"{err.code}:{field}"  # one code can mean several things, by field
    if specific in TEXTS:
        return {field: str(TEXTS[specific])}
    return {field: error_text(err)}


def signed_in(session: Session) -> Member:
    """The signed-in member, in `session` (for the actions that call another server between
    two transactions); they choose the page's language, as in `console_page`."""
    token = request.cookies.get(SESSION_COOKIE, "")
    member = signed_in_member(session, token, services().now())
    g.parley_member = SignedIn.of(member)
    return member


def _whole(text: str) -> int | str:
    """A whole number typed in a form, or the text itself for the schema to refuse."""
    return int(text) if text.isdigit() else text
