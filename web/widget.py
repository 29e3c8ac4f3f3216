"""The website widget: a visitor starts a conversation, writes, clicks, and reads replies.

Visitors are not members: the widget identifies them with the visitor token it got when
the first conversation started (header `X-Visitor-Token`); chat.visitors does the rest.
Replies are fetched by polling `GET .../messages?after=<last message id>`.

The widget runs on the customer's website, another origin than Parley's: the origins set in
`PARLEY_WIDGET_ORIGINS` may call these endpoints from the browser (CORS); others may not.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import select

from chat import visitors
from chat.models import Message
from engine.events import EventType
from web import responses
from web.args import int_arg
from web.bodies import TEXT_BODY, WIDGET_MESSAGE_BODY, json_body, text
from web.rate_limits import address
from web.responses import answer, read
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


START_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "visitor_token": {**text(100, blank=True), "minLength": 16},
        "name": text(200),
    },
}
CLICK_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["payload"],
    "properties": {"payload": text(500)},
}


@blueprint.post("/conversations")
def start() -> Response:
    """Start (or resume) the visitor's widget conversation; a new visitor gets a token."""
    body = json_body(START_BODY, required=False)  # none: a new visitor without a name
    services().limiter.hit("widget_start", address())
    with services().outbox.transaction() as session:
        conversation, token, started = visitors.start(
            session, body.get("visitor_token"), body.get("name"), services().now()
        )
        reply = responses.WidgetStart(conversation_id=conversation.id, visitor_token=token)
    return answer(reply, 201 if started else 200)


@blueprint.post("/conversations/<id:conversation_id>/messages")
def write(conversation_id: int) -> Response:
    """The visitor writes a message."""
    body = json_body(WIDGET_MESSAGE_BODY)
    services().limiter.hit("widget_act", _token() or address())
    with services().outbox.transaction() as session:
        recorded = visitors.write(
            session,
            _token(),
            conversation_id,
            body["text"],
            services().now(),
            body.get("client_id"),
        )
        reply = responses.WidgetWritten(message_id=recorded.message.id)
    return answer(reply, 201 if recorded.created else 200)


@blueprint.post("/conversations/<id:conversation_id>/clicks")
def click(conversation_id: int) -> Response:
    """The visitor clicks a button the bot sent (its payload comes back as it was)."""
    payload = json_body(CLICK_BODY)["payload"]
    return _act(conversation_id, "button.clicked", payload=payload)


@blueprint.post("/conversations/<id:conversation_id>/inputs")
def submit(conversation_id: int) -> Response:
    """The visitor fills a form the bot sent, such as a promo card's email field."""
    text = json_body(TEXT_BODY)["text"]
    return _act(conversation_id, "input.submitted", text=text)


@blueprint.get("/conversations/<id:conversation_id>/messages")
def read_messages(conversation_id: int) -> Response:
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
        shown = [read(responses.WidgetMessage, m) for m in messages]
        return answer(responses.WidgetMessages(messages=shown))


def _act(conversation_id: int, kind: EventType, **fields: str) -> Response:
    services().limiter.hit("widget_act", _token() or address())
    with services().outbox.transaction() as session:
        visitors.act(session, _token(), conversation_id, kind, services().now(), **fields)
    return answer(responses.Accepted(accepted=True), 202)


def _token() -> str:
    return request.headers.get("X-Visitor-Token", "")
