"""Pieces the OpenAPI document is built from: responses, errors, parameters, operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web.args import MAX_ID
from web.responses import Answer, Error, ref

ID = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
AUTH_ERRORS = (401, 403, 404, 409, 422)


def json_response(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    """A JSON answer with this schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def returns(model: type[Answer], description: str = "OK") -> dict[str, Any]:
    """A JSON answer serialised by `model` (web/responses.py)."""
    return json_response(ref(model), description)


def errors(*statuses: int) -> dict[str, Any]:
    """The JSON error answers for these statuses."""
    return {str(s): returns(Error, "Error") for s in statuses}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path_id(name: str) -> dict[str, Any]:
    """A whole-number id in the path."""
    return {"name": name, "in": "path", "required": True, "schema": ID}


def body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """A JSON request body checked against `schema` (one of the handlers' own)."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def op(
    summary: str,
    ok: dict[str, Any],
    *,
    status: str = "200",
    parameters: Sequence[Any] = (),
    request: dict[str, Any] | None = None,
    request_required: bool = True,
    also: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One authenticated operation: summary, parameters, its success answer (and `also`
    others, by status) and its error answers."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": list(parameters),
        "responses": {status: ok, **(also or {}), **errors(*AUTH_ERRORS)},
        "security": [{"bearer": []}],
    }
    if request is not None:
        operation["requestBody"] = body(request, request_required)
    return operation
