"""Settings → Team: members, their roles and permissions, invitations and password links.

Anyone with `settings.manage` sees the team; changing it is the owner's and admins' (the
chat layer refuses anyone else, and the page says so at the form). An invitation, or a new
password link, is emailed when SMTP is configured, after the transaction that made it has
committed (no database lock waits on the mail server); otherwise, or when sending fails,
the page shows the link for the inviter to hand over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.email import EmailFailed, Mailer
from chat.errors import ChatError, Unauthenticated
from chat.invitations import invite_member, password_link_for
from chat.members import find_member, set_permissions
from chat.models import ALL_PERMISSIONS_ROLES, Member, Workspace
from chat.signin import LINK_LIFETIME
from web.console.base import SignedIn, blueprint, check_csrf, console_page, page, to_sign_in
from web.console.i18n import LANGUAGES, choose_language
from web.console.settings import MANAGE, forbidden_page, refusal, section_page, signed_in
from web.services import services

ROLES = {"agent": _l("Agent"), "admin": _l("Admin")}  # "owner" is nobody's to give
# chat.models.PERMISSIONS, as the team page names them
PERMISSIONS = {
    "conversations.view_all": _l("See every conversation (else only their own)"),
    "conversation_tags.manage": _l("Manage conversation tags"),
    "contacts.edit": _l("Edit contacts"),
    "settings.manage": _l("Manage settings"),
}


_NAMES = {"roles": ROLES, "permissions": PERMISSIONS, "link_days": LINK_LIFETIME.days}


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a password link reached its member: by email, or shown here to hand over."""

    member: Member
    url: str
    mailed: bool
    mail_error: str | None = None


@blueprint.get("/settings/team")
@console_page
def settings_team(session: Session, member: Member) -> ResponseReturnValue:
    """The team: every member with role and permissions, and the invitation form."""
    if not member.can(MANAGE):
        return forbidden_page()
    return section_page("console/settings_team.html", **_team(session, member), **_NAMES)


@blueprint.post("/settings/team/members/<id:member_id>")
@console_page
def settings_member(session: Session, member: Member, member_id: int) -> ResponseReturnValue:
    """Change a member's role and permissions (owner or admin); the member's row again."""
    target = find_member(session, member, member_id)
    role = request.form.get("role") if target.role != "owner" else None
    admin = _is_admin(member)
    try:  # every check comes before any change, so a refusal leaves the member as they were
        set_permissions(session, member, target, request.form.getlist("permission"), role=role)
    except ChatError as err:
        errors = refusal(err)
        return _page(
            "console/settings_team_member.html", 422, m=target, row_errors=errors, admin=admin
        )
    return _page("console/settings_team_member.html", m=target, saved=True, admin=admin)


@blueprint.post("/settings/team/members/<id:member_id>/password-link")
def settings_password_link(member_id: int) -> ResponseReturnValue:
    """A new one-time password link for a member who lost their password (owner or admin)."""
    check_csrf()
    try:
        with services().outbox.transaction() as session:
            actor = signed_in(session)
            try:
                target = find_member(session, actor, member_id)
                token = password_link_for(session, actor, target, services().now())
            except ChatError as err:
                return _page("console/settings_link.html", 422, errors=refusal(err))
            workspace = _workspace_name(session, actor)
    except Unauthenticated:
        return to_sign_in()
    language = target.language or choose_language()
    delivery = _deliver(target, token, _Letter(language, workspace, invitation=False))
    return _page("console/settings_link.html", delivery=delivery)


@blueprint.post("/settings/team/invitations")
def settings_invite() -> ResponseReturnValue:
    """Invite a member: add them, then email (or show) their one-time password link."""
    check_csrf()
    form = _invitation_form()
    language = form["language"]
    try:
        with services().outbox.transaction() as session:
            actor = signed_in(session)
            try:
                invited, token = invite_member(
                    session,
                    actor,
                    form["email"],
                    form["name"],
                    form["role"],
                    form["permissions"],
                    services().now(),
                )
            except ChatError as err:
                team = _team(session, actor)
                errors = refusal(err)
                return _page(
                    "console/settings_team_body.html", 422, form=form, errors=errors, **team
                )
            invited.language = language  # their console's, as their email's
            team = _team(session, actor)
            workspace = _workspace_name(session, actor)
    except Unauthenticated:
        return to_sign_in()
    delivery = _deliver(invited, token, _Letter(language, workspace, invitation=True))
    return _page("console/settings_team_body.html", delivery=delivery, **team)


@dataclass(frozen=True, slots=True)
class _Letter:
    """What the email with a link is written from: its language, the workspace, its kind."""

    language: str
    workspace: str
    invitation: bool  # else a new link for a member who has one already


def _page(template: str, status: int = 200, /, **context: object) -> ResponseReturnValue:
    return page(template, status, **context, **_NAMES)


def _team(session: Session, member: Member) -> dict[str, object]:
    members = session.scalars(
        select(Member).where(Member.workspace_id == member.workspace_id).order_by(Member.id)
    ).all()
    return {"members": members, "admin": _is_admin(member)}


def _is_admin(member: Member) -> bool:
    """Whether the member may change the team (the chat layer's rule, for the page's forms)."""
    return member.role in ALL_PERMISSIONS_ROLES


def _workspace_name(session: Session, member: Member) -> str:
    workspace = session.get(Workspace, member.workspace_id)
    assert workspace is not None  # members are deleted with their workspace
    return workspace.name


def _invitation_form() -> dict[str, Any]:
    language = request.form.get("language", "")
    return {
        "email": request.form.get("email", ""),
        "name": request.form.get("name", ""),
        "role": request.form.get("role", ""),
        "permissions": request.form.getlist("permission"),
        "language": language if language in LANGUAGES else choose_language(),
    }


def _deliver(member: Member, token: str, letter: _Letter) -> Delivery:
    """Email the link when SMTP is configured; the link to show when not, or when it failed."""
    path = url_for("console.password_page", token=token)
    url = services().settings.public_url.rstrip("/") + path
    smtp = services().settings.smtp
    if smtp is None:
        return Delivery(member, url, mailed=False)
    with force_locale(letter.language):
        subject, paragraphs = _email_text(member, g.parley_member, letter)
        html = render_template("console/settings_email.html", paragraphs=paragraphs, url=url)
    text = "\n\n".join([*paragraphs, url, ""])
    try:
        Mailer(smtp).send(member.email, subject, text, html)
    except EmailFailed as err:
        return Delivery(member, url, mailed=False, mail_error=str(err))
    return Delivery(member, url, mailed=True)


def _email_text(member: Member, inviter: SignedIn, letter: _Letter) -> tuple[str, list[str]]:
    """The subject and paragraphs of the email, in the locale in force."""
    by = " ".join(inviter.name.split())  # one line, for the subject
    if letter.invitation:
        subject = _("%(inviter)s invites you to Parley", inviter=by)
        why = _(
            "%(inviter)s has invited you to answer chats for %(workspace)s on Parley.",
            inviter=by,
            workspace=letter.workspace,
        )
    else:
        subject = _("Your new Parley password link")
        why = _("%(inviter)s has made you a new link to set your Parley password.", inviter=by)
    days = LINK_LIFETIME.days
    return subject, [
        _("Hello %(name)s,", name=member.name),
        why,
        _("Set your password with this link; it works once, within %(days)s days:", days=days),
    ]
