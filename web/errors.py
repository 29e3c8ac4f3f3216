"""Every error leaves the API as JSON: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import logging

from flask import Flask, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from chat.errors import ChatError, RateLimited
from engine.client import REDIS_AWAY
from engine.errors import InvalidInput
from web import responses
from web.responses import answer

log = logging.getLogger(__name__)
RETRY_AFTER = 5  # seconds a client waits before trying again while Redis or the database is away
MESSAGE_MAX = 300  # characters of an error message; one quoting a long input is cut


class ApiError(Exception):
    """An error a handler raises on purpose, with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    """The JSON body and status of an error; a message that quotes the input keeps only an
    excerpt of it (MESSAGE_MAX characters in all)."""
    if len(message) > MESSAGE_MAX:
        message = message[: MESSAGE_MAX - 1] + "…"
    detail = responses.ErrorDetail(code=code, message=message, field=field)
    return answer(responses.Error(error=detail), status)


def http_error(err: HTTPException) -> Response:
    """Not found, method not allowed and the like, as JSON."""
    code = (err.name or "error").lower().replace(" ", "_")
    response = error_response(err.code or 500, code, err.description or code)
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        response.headers["Allow"] = ", ".join(err.valid_methods)  # RFC 9110 asks for it
    return response


def register_errors(app: Flask) -> None:
    """Turn domain errors, HTTP errors and surprises into JSON errors."""

    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> Response:
        return error_response(err.status, err.code, err.message, err.field)

    @app.errorhandler(ChatError)
    def chat_error(err: ChatError) -> Response:
        response = error_response(err.status, err.code, err.message, err.field)
        if isinstance(err, RateLimited):
            response.headers["Retry-After"] = str(err.retry_after)
        return response

    @app.errorhandler(InvalidInput)
    def invalid_input(err: InvalidInput) -> Response:
        return error_response(422, "invalid", err.message, err.field)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(err: RequestEntityTooLarge) -> Response:
        limit = app.config["MAX_CONTENT_LENGTH"]
        message = f"the request body is over the limit of {limit:,} bytes"
        return error_response(413, "too_large", message)

    app.register_error_handler(HTTPException, http_error)

    def redis_away(err: Exception) -> Response:
        return unavailable("Redis", err)

    for away in REDIS_AWAY:  # a dropped connection, or a Cluster failing over
        app.register_error_handler(away, redis_away)

    @app.errorhandler(OperationalError)
    def database_away(err: OperationalError) -> Response:
        return unavailable("the database", err)

    @app.errorhandler(DBAPIError)
    def database_error(err: DBAPIError) -> Response:
        if err.connection_invalidated:
            return unavailable("the database", err)
        return unexpected(err)

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        # the last resort: log the traceback for operators, show the caller no internals
        log.exception("unhandled error", exc_info=err)
        return error_response(500, "internal", "something went wrong on our side")


def unavailable(part: str, err: Exception) -> Response:
    """503 with Retry-After: a part the request needs does not answer at the moment."""
    log.warning("%s does not answer: %s", part, err)
    response = error_response(
        503, "unavailable", f"{part} does not answer at the moment; try again shortly"
    )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response
