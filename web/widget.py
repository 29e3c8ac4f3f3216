"""The website widget: a visitor starts a conversation, writes, clicks, and reads replies.

Visitors are not members: the widget identifies them with the visitor token it got when
the first conversation started (header `X-Visitor-Token`). Replies are fetched by
polling `GET .../messages?after=<last message id>`.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.bridge import event_for
from chat.conversations import open_conversation, record_message
from chat.models import ChannelIdentity, Contact, Conversation, Message, Workspace
from engine.events import EventType
from web.args import int_arg
from web.bodies import TEXT_BODY, json_body
from web.conversations import message_json
from web.errors import ApiError
from web.services import services

blueprint = Blueprint("widget", __name__, url_prefix="/widget")

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
    with services().sessions.begin() as session:
        contact, token = _visitor(session, body)
        conversation, started = open_conversation(session, contact, "widget", services().now())
        news = event_for(
            conversation, "conversation.started", services().now(), f"widget:{conversation.id}"
        )
        reply = {"conversation_id": conversation.id, "visitor_token": token}
        staged = services().outbox.stage(session, [news] if started else [])
    services().outbox.deliver(staged)
    return jsonify(reply), 201 if started else 200


@blueprint.post("/conversations/<id:conversation_id>/messages")
def write(conversation_id: int) -> tuple[Response, int]:
    """The visitor writes a message."""
    text = json_body(TEXT_BODY)["text"]
    with services().sessions.begin() as session:
        conversation = _ongoing(_own_conversation(session, conversation_id))
        message = record_message(
            session, conversation, sender="visitor", text=text, at=services().now()
        )
        news = event_for(
            conversation,
            "message.received",
            services().now(),
            f"widget-message:{message.message.id}",
            text=text,
        )
        reply = {"message_id": message.message.id}
        staged = services().outbox.stage(session, [news])
    services().outbox.deliver(staged)
    return jsonify(reply), 201


@blueprint.post("/conversations/<id:conversation_id>/clicks")
def click(conversation_id: int) -> tuple[Response, int]:
    """The visitor clicks a button the bot sent (its payload comes back as it was)."""
    payload = json_body(_CLICK)["payload"]
    return _visitor_event(conversation_id, "button.clicked", payload=payload)


@blueprint.post("/conversations/<id:conversation_id>/inputs")
def submit(conversation_id: int) -> tuple[Response, int]:
    """The visitor fills a form the bot sent, such as a promo card's email field."""
    text = json_body(TEXT_BODY)["text"]
    return _visitor_event(conversation_id, "input.submitted", text=text)


@blueprint.get("/conversations/<id:conversation_id>/messages")
def read(conversation_id: int) -> Response:
    """The conversation's messages after message id `after` (0: from the start)."""
    after = int_arg("after", 0) or 0
    with services().sessions() as session:
        _own_conversation(session, conversation_id)
        messages = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after)
            .order_by(Message.id)
            .limit(200)
        ).all()
        return jsonify({"messages": [_message_json(m) for m in messages]})


def _visitor_event(conversation_id: int, kind: EventType, **fields: str) -> tuple[Response, int]:
    with services().sessions.begin() as session:
        conversation = _ongoing(_own_conversation(session, conversation_id))
        news = event_for(
            conversation, kind, services().now(), f"widget:{secrets.token_hex(8)}", **fields
        )
        staged = services().outbox.stage(session, [news])
    services().outbox.deliver(staged)
    return jsonify({"accepted": True}), 202


def _visitor(session: Session, body: dict[str, Any]) -> tuple[Contact, str]:
    token = body.get("visitor_token")
    if token is not None:
        identity = _identity(session, token)
        if identity is None:
            raise ApiError(404, "not_found", "no visitor with this token", "visitor_token")
        return identity.contact, token
    workspace = session.scalars(select(Workspace).order_by(Workspace.id)).first()
    if workspace is None:
        raise ApiError(409, "conflict", "this Parley has no workspace yet", None)
    now = services().now()
    contact = Contact(
        workspace_id=workspace.id, name=body.get("name"), first_seen_at=now, last_seen_at=now
    )
    token = secrets.token_urlsafe(24)
    contact.identities.append(
        ChannelIdentity(channel="widget", account="widget", external_id=token)
    )
    session.add(contact)
    session.flush()
    return contact, token


def _own_conversation(session: Session, conversation_id: int) -> Conversation:
    """The conversation, if the visitor token in the request belongs to its contact."""
    identity = _identity(session, request.headers.get("X-Visitor-Token", ""))
    conversation = session.get(Conversation, conversation_id)
    if identity is None or conversation is None or conversation.contact_id != identity.contact_id:
        raise ApiError(404, "not_found", "no such conversation for this visitor", "conversation_id")
    return conversation


def _ongoing(conversation: Conversation) -> Conversation:
    if conversation.status == "ended":
        message = "this conversation has ended; start a new one"
        raise ApiError(409, "conflict", message, "conversation_id")
    return conversation


def _identity(session: Session, token: str) -> ChannelIdentity | None:
    return session.scalars(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == "widget",
            ChannelIdentity.account == "widget",
            ChannelIdentity.external_id == token,
        )
    ).first()


def _message_json(message: Message) -> dict[str, Any]:
    """A message as the visitor sees it: no member ids, flow ids or off-platform marks."""
    seen = message_json(message)
    return {key: seen[key] for key in ("id", "sender", "text", "attachments", "created_at")}
