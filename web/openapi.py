"""The OpenAPI 3.1 document of the API, served at `/openapi.json`.

Written beside the routes rather than generated from them; a test holds the two equal, and
schemathesis checks the answers against it. The chat routes are in web/openapi_chat.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from web import health
from web.args import MAX_ID
from web.bodies import TEXT_BODY
from web.openapi_chat import CHAT_PATHS
from web.openapi_messenger import MESSENGER_PATHS
from web.openapi_parts import body, errors, json_response, query

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


PATHS: dict[str, Any] = {
    "/flows": {
        "get": {
            "summary": "Loaded flows and the findings of files that did not load",
            "responses": {"200": json_response(_FLOWS)},
        }
    },
    "/flows/reload": {
        "post": {
            "summary": "Load the flows folder again",
            "responses": {"200": json_response(_FLOWS)},
        }
    },
    "/flows/{flow_id}/funnel": {
        "get": {
            "summary": "A flow's funnel",
            "parameters": [
                _FLOW_ID,
                query("day", {"type": "string", "format": "date"}, "a day; repeat for a range"),
                query("version", {"type": "string"}, "one version's figures"),
            ],
            "responses": {
                "200": json_response({"$ref": "#/components/schemas/Funnel"}),
                **errors(404),
            },
        }
    },
    "/flows/metrics": {
        "get": {
            "summary": "Every flow's funnel in Prometheus' text format",
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Requests, engine backlog, failed sends and funnels, for Prometheus",
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/flows/{flow_id}/visitors": {
        "get": {
            "summary": "A flow's visitors, newest trigger first",
            "parameters": [
                _FLOW_ID,
                query("status", {"enum": ["completed", "engaged", "not_engaged"]}, "filter"),
                query("since", {"type": "number"}, "last trigger at or after (epoch s)"),
                query("until", {"type": "number"}, "last trigger at or before (epoch s)"),
                query("cursor", {"type": "string"}, "from the previous page"),
                query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
            ],
            "responses": {
                "200": json_response(
                    {
                        "type": "object",
                        "required": ["visitors", "next_cursor"],
                        "properties": {
                            "visitors": {"type": "array", "items": {"type": "object"}},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    }
                ),
                **errors(404, 422),
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


_TEXT_BODY = {"required": True, "content": {"application/json": {"schema": TEXT_BODY}}}
_ACCEPTED = {
    "202": json_response({"type": "object", "properties": {"accepted": {"type": "boolean"}}})
}

PATHS.update(
    {
        "/widget/conversations": {
            "post": {
                "summary": "Start or resume a visitor's widget conversation",
                "requestBody": body(
                    {"visitor_token": {"type": "string"}, "name": {"type": "string"}}, []
                ),
                "responses": {
                    **{
                        status: json_response(
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
                    **errors(404, 409, 422),
                },
            }
        },
        "/widget/conversations/{conversation_id}/messages": {
            "post": {
                "summary": "The visitor writes",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": _TEXT_BODY,
                "responses": {
                    "201": json_response(
                        {"type": "object", "properties": {"message_id": {"type": "integer"}}}
                    ),
                    **errors(404, 409, 422),
                },
            },
            "get": {
                "summary": "The conversation's messages after a message id",
                "parameters": [
                    _CONVERSATION_ID,
                    _VISITOR,
                    query(
                        "after",
                        {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                        "a message id",
                    ),
                ],
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "messages": {"type": "array", "items": {"type": "object"}}
                            },
                        }
                    ),
                    **errors(404, 422),
                },
            },
        },
        "/widget/conversations/{conversation_id}/clicks": {
            "post": {
                "summary": "The visitor clicks a button the bot sent",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": body({"payload": {"type": "string", "minLength": 1}}, ["payload"]),
                "responses": {**_ACCEPTED, **errors(404, 409, 422)},
            }
        },
        "/widget/conversations/{conversation_id}/inputs": {
            "post": {
                "summary": "The visitor fills a form the bot sent",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": _TEXT_BODY,
                "responses": {**_ACCEPTED, **errors(404, 409, 422)},
            }
        },
    }
)
PATHS.update(CHAT_PATHS)
PATHS.update(MESSENGER_PATHS)
# Every operation that needs Redis or the database answers 503 while it is away.
for _operations in PATHS.values():
    for _operation in _operations.values():
        _operation["responses"].update(errors(503))
PATHS.update(health.document())

for _flow_path in (
    "/metrics",
    "/flows/metrics",
    "/flows",
    "/flows/reload",
    "/flows/{flow_id}/funnel",
    "/flows/{flow_id}/visitors",
):
    for _operation in PATHS[_flow_path].values():
        _operation["security"] = [{"bearer": []}]
        _operation["responses"].update(errors(401, 403))

# A body over the limit is refused before it is read (413); the rate limits (429) hold the
# widget, the webhook and, through wrong tokens, every authenticated call.
for _path, _operations in PATHS.items():
    for _method, _operation in _operations.items():
        if _method in ("post", "patch", "put"):
            _operation["responses"].update(errors(413))
        if "security" in _operation or _path.startswith(("/widget/", "/webhooks/")):
            _operation["responses"].update(errors(429))

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
