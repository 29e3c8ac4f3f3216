"""Every error leaves the API as JSON: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from chat.errors import ChatError
from engine.errors import InvalidInput

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a handler raises on purpose, with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    """The JSON body and status of an error."""
    response = jsonify({"error": {"code": code, "message": message, "field": field}})
    response.status_code = status
    return response


def register_errors(app: Flask) -> None:
    """Turn domain errors, HTTP errors and surprises into JSON errors."""

    @app.errorhandler(ApiError)
    def api_error(err: ApiError) -> Response:
        return error_response(err.status, err.code, err.message, err.field)

    @app.errorhandler(ChatError)
    def chat_error(err: ChatError) -> Response:
        return error_response(err.status, err.code, err.message, err.field)

    @app.errorhandler(InvalidInput)
    def invalid_input(err: InvalidInput) -> Response:
        return error_response(422, "invalid", err.message, err.field)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        code = (err.name or "error").lower().replace(" ", "_")
        return error_response(err.code or 500, code, err.description or code)

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        # the last resort: log the traceback for operators, show the caller no internals
        log.exception("unhandled error", exc_info=err)
        return error_response(500, "internal", "something went wrong on our side")
