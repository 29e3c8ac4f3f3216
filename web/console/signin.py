"""Signing in and out, setting a password through a one-time link, and choosing a language."""

from __future__ import annotations

from datetime import datetime

from flask import Response, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from chat.errors import ChatError, Unauthenticated
from chat.models import Member
from chat.signin import (
    PASSWORD_MIN,
    link_member,
    sign_in,
    sign_out,
    signed_in_member,
    use_password_link,
)
from web.console.base import (
    SESSION_COOKIE,
    blueprint,
    check_csrf,
    console_page,
    page,
    set_session_cookie,
)
from web.console.i18n import LANGUAGE_COOKIE, LANGUAGES
from web.console.messages import error_text
from web.rate_limits import address
from web.services import services


@blueprint.get("/")
@console_page
def home(_session: Session, _member: Member) -> ResponseReturnValue:
    """The console opens on the inbox."""
    return redirect(url_for("console.inbox"))


@blueprint.route("/signin", methods=["GET", "POST"])
def sign_in_page() -> ResponseReturnValue:
    """The sign-in form; on success, the page the member was going to (the inbox by default)."""
    check_csrf()
    email = request.form.get("email", "")
    error = None
    status = 200
    if request.method == "POST":
        limiter = services().limiter
        try:
            limiter.check("auth_failures", address())  # an address guessing passwords waits
            with services().outbox.transaction() as session:
                try:
                    _, token = sign_in(session, email, request.form.get("password", ""), _now())
                except Unauthenticated:
                    limiter.hit("auth_failures", address())
                    raise
        except ChatError as err:
            error, status = error_text(err), err.status
        else:
            return _signed_in(token)
    return page("console/signin.html", status, email=email, error=error, next=_next())


@blueprint.post("/signout")
def sign_out_page() -> ResponseReturnValue:
    """End this browser's session and show the sign-in page."""
    check_csrf()
    with services().outbox.transaction() as session:
        sign_out(session, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(url_for("console.sign_in_page"))
    response.delete_cookie(SESSION_COOKIE)
    return response


@blueprint.route("/password/<token>", methods=["GET", "POST"])
def password_page(token: str) -> ResponseReturnValue:
    """Set a password through a one-time link, and be signed in with it."""
    check_csrf()
    error = None
    with services().outbox.transaction() as session:
        try:
            member = link_member(session, token, _now())
        except ChatError as err:
            return page("console/password.html", 410, member=None, error=error_text(err))
        if request.method == "POST":
            password = request.form.get("password", "")
            try:
                if password != request.form.get("confirm", ""):
                    raise ChatError("the two passwords differ", field="confirm", code="mismatch")
                use_password_link(session, token, password, _now())
                _, session_token = sign_in(session, member.email, password, _now())
            except ChatError as err:
                error = error_text(err)
            else:
                return _signed_in(session_token)
        return page(
            "console/password.html",
            422 if error else 200,
            member=member,
            error=error,
            minimum=PASSWORD_MIN,
        )


@blueprint.post("/language")
def language_page() -> ResponseReturnValue:
    """Show the console in another language: for this browser, and for the member if signed in."""
    check_csrf()
    language = request.form.get("language", "")
    response = redirect(_next())
    if language not in LANGUAGES:
        return response
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="Lax")
    with services().outbox.transaction() as session:
        try:
            member = signed_in_member(session, request.cookies.get(SESSION_COOKIE, ""), _now())
        except Unauthenticated:
            return response  # the sign-in page's choice: this browser only
        member.language = language
    return response


def _signed_in(token: str) -> Response:
    response = make_response(redirect(_next()))
    set_session_cookie(response, token)
    return response


def _next() -> str:
    """Where to go after the form: a path of this site only, never another site's address."""
    target = request.args.get("next") or request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("console.inbox")
    return target


def _now() -> datetime:
    return services().now()
