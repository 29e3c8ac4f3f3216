"""Pieces the OpenAPI document is built from: responses, errors, parameters, operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web.args import MAX_ID

ID = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
OBJECT = {"type": "object"}
AUTH_ERRORS = (401, 403, 404, 409, 422)


def json_response(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    """A JSON answer with this schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict[str, Any]:
    """The JSON error answers for these statuses."""
    return {
        str(s): json_response({"$ref": "#/components/schemas/Error"}, "Error") for s in statuses
    }


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


def body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A required JSON request body with these properties and no others."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def op(
    summary: str,
    ok: dict[str, Any],
    *,
    status: str = "200",
    parameters: Sequence[Any] = (),
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One authenticated operation: summary, parameters, its success and error answers."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": list(parameters),
        "responses": {status: ok, **errors(*AUTH_ERRORS)},
        "security": [{"bearer": []}],
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def fields(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An object schema with these properties and no others."""
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }
