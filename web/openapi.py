"""The OpenAPI 3.1 document of the API, served at `/openapi.json`.

Written beside the routes rather than generated from them; a test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, jsonify

from web.args import MAX_ID

blueprint = Blueprint("openapi", __name__)

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}
_FLOW_ID = {"name": "flow_id", "in": "path", "required": True, "schema": {"type": "string"}}
_FLOWS = {
    "type": "object",
    "required": ["flows", "findings"],
    "properties": {
        "flows": {"type": "array", "items": {"$ref": "#/components/schemas/Flow"}},
        "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _json({"$ref": "#/components/schemas/Error"}, "Error") for s in statuses}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


PATHS: dict[str, Any] = {
    "/flows": {
        "get": {
            "summary": "Loaded flows and the findings of files that did not load",
            "responses": {"200": _json(_FLOWS)},
        }
    },
    "/flows/reload": {
        "post": {
            "summary": "Load the flows folder again",
            "responses": {"200": _json(_FLOWS)},
        }
    },
    "/flows/{flow_id}/funnel": {
        "get": {
            "summary": "A flow's funnel",
            "parameters": [
                _FLOW_ID,
                _query("day", {"type": "string", "format": "date"}, "a day; repeat for a range"),
                _query("version", {"type": "string"}, "one version's figures"),
            ],
            "responses": {"200": _json({"$ref": "#/components/schemas/Funnel"}), **_errors(404)},
        }
    },
    "/flows/{flow_id}/visitors": {
        "get": {
            "summary": "A flow's visitors, newest trigger first",
            "parameters": [
                _FLOW_ID,
                _query("status", {"enum": ["completed", "engaged", "not_engaged"]}, "filter"),
                _query("since", {"type": "number"}, "last trigger at or after (epoch s)"),
                _query("until", {"type": "number"}, "last trigger at or before (epoch s)"),
                _query("cursor", {"type": "string"}, "from the previous page"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["visitors", "next_cursor"],
                        "properties": {
                            "visitors": {"type": "array", "items": {"type": "object"}},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    }
                ),
                **_errors(404, 422),
            },
        }
    },
}

_CONVERSATION_ID = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
}
_VISITOR = {
    "name": "X-Visitor-Token",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "the token the widget got when the visitor's first conversation started",
}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_TEXT_BODY = _body({"text": {"type": "string", "minLength": 1, "maxLength": 2000}}, ["text"])
_ACCEPTED = {"202": _json({"type": "object", "properties": {"accepted": {"type": "boolean"}}})}

PATHS.update(
    {
        "/widget/conversations": {
            "post": {
                "summary": "Start or resume a visitor's widget conversation",
                "requestBody": _body(
                    {"visitor_token": {"type": "string"}, "name": {"type": "string"}}, []
                ),
                "responses": {
                    **{
                        status: _json(
                            {
                                "type": "object",
                                "required": ["conversation_id", "visitor_token"],
                                "properties": {
                                    "conversation_id": {"type": "integer"},
                                    "visitor_token": {"type": "string"},
                                },
                            }
                        )
                        for status in ("200", "201")
                    },
                    **_errors(404, 409, 422),
                },
            }
        },
        "/widget/conversations/{conversation_id}/messages": {
            "post": {
                "summary": "The visitor writes",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": _TEXT_BODY,
                "responses": {
                    "201": _json(
                        {"type": "object", "properties": {"message_id": {"type": "integer"}}}
                    ),
                    **_errors(404, 409, 422),
                },
            },
            "get": {
                "summary": "The conversation's messages after a message id",
                "parameters": [
                    _CONVERSATION_ID,
                    _VISITOR,
                    _query(
                        "after",
                        {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                        "a message id",
                    ),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "messages": {"type": "array", "items": {"type": "object"}}
                            },
                        }
                    ),
                    **_errors(404, 422),
                },
            },
        },
        "/widget/conversations/{conversation_id}/clicks": {
            "post": {
                "summary": "The visitor clicks a button the bot sent",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": _body({"payload": {"type": "string", "minLength": 1}}, ["payload"]),
                "responses": {**_ACCEPTED, **_errors(404, 409, 422)},
            }
        },
        "/widget/conversations/{conversation_id}/inputs": {
            "post": {
                "summary": "The visitor fills a form the bot sent",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": _TEXT_BODY,
                "responses": {**_ACCEPTED, **_errors(404, 409, 422)},
            }
        },
    }
)

_ID = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
_OBJECT = {"type": "object"}
_PAGE_ARGS = [
    _query("cursor", {"type": "string"}, "from the previous page"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
]
_CONVERSATION_FILTERS = [
    _query("assignee_id", _ID, "assigned to this member"),
    _query("received_from", {"type": "string", "format": "date-time"}, "received at or after"),
    _query("received_to", {"type": "string", "format": "date-time"}, "received before"),
    _query("tag", {"type": "string"}, "has this conversation tag"),
    _query("channel", {"enum": ["messenger", "widget"]}, "on this channel"),
]
_CHANGED = _json(
    {
        "type": "object",
        "required": ["changed", "fields"],
        "properties": {"changed": {"type": "boolean"}, "fields": _OBJECT},
    }
)
_AUTH_ERRORS = (401, 403, 404, 409, 422)


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def _op(
    summary: str,
    ok: dict[str, Any],
    *,
    status: str = "200",
    parameters: Sequence[Any] = (),
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": list(parameters),
        "responses": {status: ok, **_errors(*_AUTH_ERRORS)},
        "security": [{"bearer": []}],
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def _fields(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


_MEMBER = _json(_OBJECT)
_PERMISSION_LIST = {"type": "array", "items": {"type": "string"}}
PATHS.update(
    {
        "/me": {"get": _op("The calling member", _MEMBER)},
        "/me/settings": {
            "patch": _op(
                "The caller's own list settings",
                _MEMBER,
                body=_fields(
                    {
                        "show_visitor_tags": {"type": "boolean"},
                        "prefer_remark_name": {"type": "boolean"},
                    }
                ),
            )
        },
        "/members": {
            "get": _op("The workspace's members", _json(_OBJECT)),
            "post": _op(
                "Add an admin or agent; their API token is shown once",
                _MEMBER,
                status="201",
                body=_fields(
                    {
                        "email": {"type": "string"},
                        "name": {"type": "string"},
                        "role": {"enum": ["admin", "agent"]},
                        "permissions": _PERMISSION_LIST,
                    },
                    ["email", "name", "role"],
                ),
            ),
        },
        "/members/{member_id}/permissions": {
            "put": _op(
                "Replace a member's permissions",
                _MEMBER,
                parameters=[_path_id("member_id")],
                body=_fields(
                    {"permissions": _PERMISSION_LIST, "role": {"enum": ["admin", "agent"]}},
                    ["permissions"],
                ),
            ),
        },
        "/contacts": {
            "get": _op(
                "Contacts, newest first",
                _json(_OBJECT),
                parameters=[
                    _query("remark_name", {"type": "string"}, "remark name is exactly this"),
                    _query("remark_contains", {"type": "string"}, "remark name contains this"),
                    _query("search", {"type": "string"}, "name, remark name, phone or email"),
                    *_PAGE_ARGS,
                ],
            ),
        },
        "/contacts/{contact_id}": {
            "get": _op("One contact", _json(_OBJECT), parameters=[_path_id("contact_id")]),
            "patch": _op(
                "Edit remark name, phone, email",
                _json(_OBJECT),
                parameters=[_path_id("contact_id")],
                body=_fields(
                    {k: {"type": ["string", "null"]} for k in ("remark_name", "phone", "email")}
                ),
            ),
        },
        "/conversations": {
            "get": _op(
                "Conversations, latest activity first",
                _json(_OBJECT),
                parameters=[
                    _query("status", {"enum": ["ongoing", "ended"]}, "ongoing or ended"),
                    *_CONVERSATION_FILTERS,
                    *_PAGE_ARGS,
                ],
            ),
        },
        "/conversations/dashboard": {
            "get": _op(
                "Ongoing, ended and total conversations",
                _json(_OBJECT),
                parameters=_CONVERSATION_FILTERS,
            ),
        },
        "/conversations/hosting": {
            "post": _op(
                "Bot hosting on or off for listed or all assigned conversations",
                _json(_OBJECT),
                body=_fields(
                    {
                        "on": {"type": "boolean"},
                        "all": {"type": "boolean"},
                        "conversation_ids": {"type": "array", "items": _ID},
                    },
                    ["on"],
                ),
            ),
        },
        "/conversations/{conversation_id}": {
            "get": _op(
                "One conversation with its figures",
                _json(_OBJECT),
                parameters=[_path_id("conversation_id")],
            ),
        },
        "/conversations/{conversation_id}/messages": {
            "get": _op(
                "The conversation's messages",
                _json(_OBJECT),
                parameters=[_path_id("conversation_id")],
            ),
            "post": _op(
                "An agent replies",
                _json(_OBJECT),
                status="201",
                parameters=[_path_id("conversation_id")],
                body=_fields({"text": {"type": "string"}}, ["text"]),
            ),
        },
        "/conversations/{conversation_id}/assign": {
            "post": _op(
                "Assign to a member, or to no one",
                _CHANGED,
                parameters=[_path_id("conversation_id")],
                body=_fields(
                    {"assignee_id": {"type": ["integer", "null"], "maximum": MAX_ID}},
                    ["assignee_id"],
                ),
            ),
        },
        "/conversations/{conversation_id}/end": {
            "post": _op("End the conversation", _CHANGED, parameters=[_path_id("conversation_id")]),
        },
        "/conversations/{conversation_id}/tags": {
            "patch": _op(
                "Add and remove conversation tags",
                _CHANGED,
                parameters=[_path_id("conversation_id")],
                body=_fields(
                    {
                        "add": {"type": "array", "items": {"type": "string"}},
                        "remove": {"type": "array", "items": {"type": "string"}},
                    }
                ),
            ),
        },
    }
)
for _flow_path in (
    "/flows",
    "/flows/reload",
    "/flows/{flow_id}/funnel",
    "/flows/{flow_id}/visitors",
):
    for _operation in PATHS[_flow_path].values():
        _operation["security"] = [{"bearer": []}]
        _operation["responses"].update(_errors(401, 403))

COMPONENTS: dict[str, Any] = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
        "Error": _ERROR,
        "Flow": {
            "type": "object",
            "required": ["id", "name", "version", "trigger", "path"],
            "properties": {
                k: {"type": "string"} for k in ("id", "name", "version", "trigger", "path")
            },
        },
        "Finding": {
            "type": "object",
            "required": ["path", "line", "col", "severity", "message", "rule"],
            "properties": {
                "path": {"type": "string"},
                "line": {"type": "integer"},
                "col": {"type": "integer"},
                "severity": {"enum": ["error", "warning"]},
                "message": {"type": "string"},
                "rule": {"type": "string"},
                "hint": {"type": ["string", "null"]},
            },
        },
        "Funnel": {
            "type": "object",
            "required": [
                "flow",
                "scope",
                "triggers",
                "triggered_visitors",
                "engaged_visitors",
                "completed_visitors",
                "engagement_rate",
                "completion_rate",
                "steps",
            ],
            "properties": {
                "flow": {"type": "string"},
                "scope": {"type": "string"},
                "triggers": {"type": "integer"},
                "retriggers": {"type": "integer"},
                "triggered_visitors": {"type": "integer"},
                "engaged_visitors": {"type": "integer"},
                "completed_visitors": {"type": "integer"},
                "completed_after_engaging": {"type": "integer"},
                "engagement_rate": {"type": "number"},
                "completion_rate": {"type": "number"},
                "steps": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
    },
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Parley", "version": "0.1.0"},
        "paths": PATHS,
        "components": COMPONENTS,
    }


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document."""
    return jsonify(document())
