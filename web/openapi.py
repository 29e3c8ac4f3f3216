"""The OpenAPI 3.1 document of the API, served at `/openapi.json`.

Operations are written beside the routes rather than generated from them (a test holds the
two equal); their request bodies are the schemas the handlers check bodies with, and their
answers the models the handlers serialise with (web/responses.py), so neither can drift.
schemathesis checks the answers against it. The chat routes are in web/openapi_chat.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.metrics import VISITOR_CURSOR
from web import health, responses
from web.args import MAX_ID, VERSION_MAX
from web.bodies import TEXT_BODY, WIDGET_MESSAGE_BODY, text
from web.openapi_chat import CHAT_PATHS
from web.openapi_messenger import MESSENGER_PATHS
from web.openapi_parts import body, errors, query, returns
from web.widget import CLICK_BODY, START_BODY

blueprint = Blueprint("openapi", __name__)

_FLOW_ID = {"name": "flow_id", "in": "path", "required": True, "schema": {"type": "string"}}
_FLOWS = returns(responses.Flows)


PATHS: dict[str, Any] = {
    "/flows": {
        "get": {
            "summary": "The flows every process runs, and what the last reload found",
            "responses": {"200": _FLOWS},
        }
    },
    "/flows/reload": {
        "post": {
            "summary": "Load the flows folder again, for every process",
            "responses": {"200": _FLOWS},
        }
    },
    "/flows/{flow_id}/funnel": {
        "get": {
            "summary": "A flow's funnel",
            "parameters": [
                _FLOW_ID,
                query("day", {"type": "string", "format": "date"}, "a day; repeat for a range"),
                query("version", text(VERSION_MAX, blank=True), "one version's figures"),
            ],
            "responses": {
                "200": returns(responses.Funnel),
                **errors(404, 422),
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
                query(
                    "cursor",
                    {"type": "string", "pattern": VISITOR_CURSOR},
                    "the previous page's next_cursor",
                ),
                query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
            ],
            "responses": {
                "200": returns(responses.FlowVisitors),
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


_ACCEPTED = {"202": returns(responses.Accepted)}

PATHS.update(
    {
        "/widget/conversations": {
            "post": {
                "summary": "Start or resume a visitor's widget conversation",
                # no body: a new visitor without a name
                "requestBody": body(START_BODY, required=False),
                "responses": {
                    "200": returns(responses.WidgetStart, "the visitor's conversation, resumed"),
                    "201": returns(responses.WidgetStart, "a new conversation"),
                    **errors(404, 409, 422),
                },
            }
        },
        "/widget/conversations/{conversation_id}/messages": {
            "post": {
                "summary": "The visitor writes",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": body(WIDGET_MESSAGE_BODY),
                "responses": {
                    "200": returns(
                        responses.WidgetWritten, "written before with this client_id: kept once"
                    ),
                    "201": returns(responses.WidgetWritten),
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
                    "200": returns(responses.WidgetMessages),
                    **errors(404, 422),
                },
            },
        },
        "/widget/conversations/{conversation_id}/clicks": {
            "post": {
                "summary": "The visitor clicks a button the bot sent",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": body(CLICK_BODY),
                "responses": {**_ACCEPTED, **errors(404, 409, 422)},
            }
        },
        "/widget/conversations/{conversation_id}/inputs": {
            "post": {
                "summary": "The visitor fills a form the bot sent",
                "parameters": [_CONVERSATION_ID, _VISITOR],
                "requestBody": body(TEXT_BODY),
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

# A body over the limit is refused before it is read (413), one that is not JSON where JSON
# is read (400); the rate limits (429) hold the widget, the webhook and, through wrong
# tokens, every authenticated call.
for _path, _operations in PATHS.items():
    for _method, _operation in _operations.items():
        if _method in ("post", "patch", "put"):
            _operation["responses"].update(errors(413))
        if "requestBody" in _operation:
            _operation["responses"].update(errors(400))
        if "security" in _operation or _path.startswith(("/widget/", "/webhooks/")):
            _operation["responses"].update(errors(429))


def _link(path: str, method: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link: the operation at `path` and `method`, its parameters taken from this
    answer (`header.X` for a header)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}


_CONVERSATION = "/widget/conversations/{conversation_id}"
_WIDGET = {
    "conversation_id": "$response.body#/conversation_id",
    "header.X-Visitor-Token": "$response.body#/visitor_token",
}
_STARTED = {
    "ReadMessages": _link(f"{_CONVERSATION}/messages", "get", **_WIDGET),
    "Write": _link(f"{_CONVERSATION}/messages", "post", **_WIDGET),
    "Click": _link(f"{_CONVERSATION}/clicks", "post", **_WIDGET),
    "Fill": _link(f"{_CONVERSATION}/inputs", "post", **_WIDGET),
}
_FIRST_FLOW = "$response.body#/flows/0/id"
_LOADED = {
    "Funnel": _link("/flows/{flow_id}/funnel", "get", flow_id=_FIRST_FLOW),
    "Visitors": _link("/flows/{flow_id}/visitors", "get", flow_id=_FIRST_FLOW),
}
# What an answer lets a client do next, for readers and for schemathesis' stateful phase
# (it infers the links between the member routes from their names by itself).
LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("/widget/conversations", "post", "200"): _STARTED,
    ("/widget/conversations", "post", "201"): _STARTED,
    ("/channels/messenger/pages/{page_id}/syncs", "post", "202"): {
        "Progress": _link(
            "/channels/messenger/syncs/{sync_id}", "get", sync_id="$response.body#/id"
        )
    },
    ("/flows", "get", "200"): _LOADED,
    ("/flows/reload", "post", "200"): _LOADED,
}
for (_path, _method, _status), _links in LINKS.items():
    PATHS[_path][_method]["responses"][_status] = {
        **PATHS[_path][_method]["responses"][_status],
        "links": _links,
    }

COMPONENTS: dict[str, Any] = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": responses.schemas(),
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
