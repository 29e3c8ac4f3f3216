"""What every console page shares: the blueprint, the signed-in member, cookies and CSRF.

A page handler decorated with `console_page` gets the request's database session and the
signed-in member, inside one transaction whose engine events are published after it commits
(as the JSON API's `member_request` does): both fronts run the same chat services.

CSRF: a random `parley_csrf` cookie (SameSite=Strict, HttpOnly) is set on the first page;
every form carries the same value in a hidden field, and htmx sends it as `X-CSRF-Token`.
A POST without the matching value is refused before it touches anything (double-submit
cookie). The session cookie is SameSite=Lax, so a link from another site may open a page
but never carries out an action.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, NamedTuple, ParamSpec

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from chat.errors import Unauthenticated
from chat.models import Member, holds
from chat.signin import SESSION_LIFETIME, signed_in_member
from web.console.i18n import LANGUAGES, choose_language, html_lang
from web.services import services

P = ParamSpec("P")

SESSION_COOKIE = "parley_session"
CSRF_COOKIE = "parley_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NAVIGATION: list[NavEntry] = []  # filled by the page modules, kept in `place` order

blueprint = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="../static",
    static_url_path="/static",
)


def console_page(
    handler: Callable[Concatenate[Session, Member, P], ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Run `handler` for the signed-in member in one transaction; else to the sign-in page."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        check_csrf()
        token = request.cookies.get(SESSION_COOKIE, "")
        with services().outbox.transaction() as session:
            try:
                member = signed_in_member(session, token, services().now())
            except Unauthenticated:
                return to_sign_in()
            g.parley_member = SignedIn.of(member)  # for the layout and the page's language
            return handler(session, member, *args, **kwargs)

    return wrapper


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is signed in, as the layout shows them: a copy that outlives the transaction (an
    error page renders after its rollback)."""

    id: int
    workspace_id: int
    name: str
    email: str
    role: str
    permissions: frozenset[str]
    language: str | None

    @classmethod
    def of(cls, member: Member) -> SignedIn:
        """The copy of `member`."""
        return cls(
            member.id,
            member.workspace_id,
            member.name,
            member.email,
            member.role,
            frozenset(member.permissions),
            member.language,
        )

    def can(self, permission: str) -> bool:
        """Whether they hold `permission` (as `Member.can`)."""
        return holds(self.role, self.permissions, permission)


def to_sign_in() -> ResponseReturnValue:
    """Send a signed-out browser to the sign-in page, and back here after it."""
    target = url_for("console.sign_in_page", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request"):  # htmx: reload the whole page, not a fragment
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def check_csrf() -> None:
    """Refuse (403) a state-changing request whose CSRF value does not match the cookie."""
    if request.method in _SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(expected, given):
        abort(403, "this form is out of date: reload the page and try again")


def csrf_token() -> str:
    """This browser's CSRF value (a new one if it has none; `remember_csrf` sets the cookie)."""
    if "parley_csrf" not in g:
        g.parley_csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    token: str = g.parley_csrf
    return token


def csrf_field() -> Markup:
    """The hidden form field that carries the CSRF value."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, escape(csrf_token())
    )


@blueprint.after_app_request
def remember_csrf(response: Response) -> Response:
    """Give the browser the CSRF cookie that the page's forms were rendered with."""
    token = g.get("parley_csrf")
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure
        )
    return response


def set_session_cookie(response: Response, token: str) -> None:
    """The signed-in cookie: not readable by scripts, sent only over HTTPS behind HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def page(template: str, status: int = 200, **context: object) -> Response:
    """A rendered console template (a whole page or an htmx fragment), never cached."""
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"  # pages show one member's data
    return response


class NavEntry(NamedTuple):
    """A page in the navigation bar: shown to members holding `permission` (None: to all)."""

    place: int
    endpoint: str
    label: LazyString
    permission: str | None


def conversation_url(conversation_id: int | str) -> str:
    """A conversation's own page in the console."""
    return url_for("console.conversation", conversation_id=int(conversation_id))


def in_navigation(
    endpoint: str, label: LazyString, place: int, permission: str | None = None
) -> None:
    """List a page in the navigation bar, at `place` (smaller first)."""
    NAVIGATION.append(NavEntry(place, endpoint, label, permission))
    NAVIGATION.sort()


@blueprint.context_processor
def console_context() -> dict[str, object]:
    """What every console template may use: CSRF, the signed-in member, language, navigation."""
    language = choose_language()
    return {
        "conversation_url": conversation_url,
        "new_client_id": lambda: secrets.token_hex(16),
        "csrf_field": csrf_field,
        "csrf_token": csrf_token,
        "me": g.get("parley_member"),
        "language": language,
        "languages": LANGUAGES,
        "html_lang": html_lang(language),
        "nav": NAVIGATION,
    }
