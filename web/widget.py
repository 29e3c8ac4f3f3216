"""The website widget: a visitor starts a conversation, writes, clicks, and reads replies.

Visitors are not members: the widget identifies them with the visitor token it got when
the first conversation started (header `X-Visitor-Token`); chat.visitors does the rest.
Replies are fetched by polling `GET .../messages?after=<last message id>`.

The widget runs on the customer's website, another origin than Parley's: the origins set in
`PARLEY_WIDGET_ORIGINS` may call these endpoints from the browser (CORS); others may not.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from chat import visitors
from chat.models import Message
from engine.events import EventType
from web.args import int_arg
from web.bodies import TEXT_BODY, json_body
from web.conversations import message_json
from web.rate_limits import address
from web.services import services

blueprint = Blueprint("widget", __name__, url_prefix="/widget")
CORS_MAX_AGE = 600  # seconds a browser may keep a preflight's answer


@blueprint.after_request
def allow_the_sites_origin(response: Response) -> Response:
    """Let the browser of a visitor on an allowed website read the answer (CORS)."""
    origin = request.headers.get("Origin")
    allowed = services().settings.widget_origins
    if origin and (origin in allowed or "*" in allowed):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Visitor-Token"
        response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
    response.vary.add("Origin")
    return response


_START = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "visitor_token": {"type": "string", "minLength": 16, "maxLength": 100},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}
_CLICK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["payload"],
    "properties": {"payload": {"type": "string", "minLength": 1, "maxLength": 500}},
}


@blueprint.post("/conversations")
def start() -> tuple[Response, int]:
    """Start (or resume) the visitor's widget conversation; a new visitor gets a token."""
    body = json_body(_START)
    services().limiter.hit("widget_start", address())
    with services().outbox.transaction() as session:
        conversation, token, started = visitors.start(
            session, body.get("visitor_token"), body.get("name"), services().now()
        )
        reply = {"conversation_id": conversation.id, "visitor_token": token}
    return jsonify(reply), 201 if started else 200


@blueprint.post("/conversations/<id:conversation_id>/messages")
def write(conversation_id: int) -> tuple[Response, int]:
    """The visitor writes a message."""
    text = json_body(TEXT_BODY)["text"]
    services().limiter.hit("widget_act", _token() or address())
    with services().outbox.transaction() as session:
        message = visitors.write(session, _token(), conversation_id, text, services().now())
        reply = {"message_id": message.id}
    return jsonify(reply), 201


@blueprint.post("/conversations/<id:conversation_id>/clicks")
def click(conversation_id: int) -> tuple[Response, int]:
    """The visitor clicks a button the bot sent (its payload comes back as it was)."""
    payload = json_body(_CLICK)["payload"]
    return _act(conversation_id, "button.clicked", payload=payload)


@blueprint.post("/conversations/<id:conversation_id>/inputs")
def submit(conversation_id: int) -> tuple[Response, int]:
    """The visitor fills a form the bot sent, such as a promo card's email field."""
    text = json_body(TEXT_BODY)["text"]
    return _act(conversation_id, "input.submitted", text=text)


@blueprint.get("/conversations/<id:conversation_id>/messages")
def read(conversation_id: int) -> Response:
    """The conversation's messages after message id `after` (0: from the start)."""
    after = int_arg("after", 0) or 0
    with services().sessions() as session:
        visitors.own_conversation(session, _token(), conversation_id)
        messages = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after)
            .order_by(Message.id)
            .limit(200)
        ).all()
        return jsonify({"messages": [_message_json(m) for m in messages]})


def _act(conversation_id: int, kind: EventType, **fields: str) -> tuple[Response, int]:
    services().limiter.hit("widget_act", _token() or address())
    with services().outbox.transaction() as session:
        visitors.act(session, _token(), conversation_id, kind, services().now(), **fields)
    return jsonify({"accepted": True}), 202


def _token() -> str:
    return request.headers.get("X-Visitor-Token", "")


def _message_json(message: Message) -> dict[str, Any]:
    """A message as the visitor sees it: no member ids, flow ids or off-platform marks."""
    seen = message_json(message)
    return {key: seen[key] for key in ("id", "sender", "text", "attachments", "created_at")}
