"""Errors on console pages: a page (or, for htmx, a fragment) in the agent's language.

The JSON API answers errors as JSON (web/errors.py); a person in the console gets the same
error as words: what went wrong, in their language, never a traceback. Redis or the database
away is a 503 with Retry-After, as in the API.
"""

from __future__ import annotations

import logging

from flask import Response, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, NotFound

from chat.errors import ChatError
from engine.client import REDIS_AWAY
from web.console.base import blueprint, console_context, page
from web.console.messages import error_text
from web.errors import RETRY_AFTER
from web.errors import http_error as api_http_error

log = logging.getLogger(__name__)


def error_page(status: int, message: str, context: dict[str, object] | None = None) -> Response:
    """The error as a whole page, or as a fragment when htmx asked for part of one; `context`
    for a request outside the console's routes, which its context processor does not serve."""
    template = "console/error_fragment.html" if request.headers.get("HX-Request") else None
    return page(
        template or "console/error.html", status, code=status, message=message, **(context or {})
    )


@blueprint.errorhandler(ChatError)
def chat_error(err: ChatError) -> Response:
    """A refusal of the chat layer, in the agent's words."""
    return error_page(err.status, error_text(err))


@blueprint.errorhandler(HTTPException)
def http_error(err: HTTPException) -> Response:
    """Not found, a stale form (CSRF) and the like."""
    return error_page(err.code or 500, _http_text(err))


@blueprint.app_errorhandler(NotFound)
def not_found(err: NotFound) -> Response:
    """An address no route answers (a mistyped or old console link): the console's page for
    a browser, which asks for HTML first; the API's JSON for anyone else."""
    if request.blueprint == blueprint.name:
        return http_error(err)
    if _wants_html():
        return error_page(404, _http_text(err), console_context())
    return api_http_error(err)


def _http_text(err: HTTPException) -> str:
    texts: dict[int, str] = {
        403: _("This form is out of date: reload the page and try again."),
        404: _("There is nothing here: the page may have moved, or you may not see it."),
    }
    return texts.get(err.code or 500, str(err.description or err.name))


def _wants_html() -> bool:
    offered = ("application/json", "text/html")  # on a tie (*/*, or no Accept), JSON
    return request.accept_mimetypes.best_match(offered) == "text/html"


@blueprint.errorhandler(OperationalError)
def unavailable(err: Exception) -> Response:
    """Redis or the database does not answer: try again shortly."""
    log.warning("a console page could not be served: %s", err)
    response = error_page(503, _("Parley cannot reach its data at the moment; try again shortly."))
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


for _away in REDIS_AWAY:  # a dropped connection, or a Cluster failing over
    blueprint.register_error_handler(_away, unavailable)
