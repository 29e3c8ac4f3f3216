"""Conversations: lists, the dashboard, detail, messages, replies and the agent's actions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.inbox import dashboard, find_conversation, get_conversation, list_conversations
from chat.inbox_actions import (
    MAX_BATCH,
    Change,
    assign,
    end_conversation,
    reply,
    set_hosting,
    set_tags,
)
from chat.models import Conversation, Member, Message
from chat.reply_window import window
from web import responses
from web.args import MAX_ID, int_arg, time_arg
from web.auth import member_request
from web.bodies import REPLY_BODY, TAG, json_body
from web.responses import answer, read
from web.services import services

blueprint = Blueprint("conversations", __name__, url_prefix="/conversations")

ASSIGN_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["assignee_id"],
    "properties": {"assignee_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID}},
}
TAGS_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "add": {"type": "array", "items": TAG},
        "remove": {"type": "array", "items": TAG},
    },
}
HOSTING_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["on"],
    "properties": {
        "on": {"type": "boolean"},
        "conversation_ids": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_BATCH,
            "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        },
        "all": {"type": "boolean"},
    },
    # the listed conversations, or (all: true) every assigned one, never both
    "oneOf": [
        {"required": ["conversation_ids"]},
        {"required": ["all"], "properties": {"all": {"const": True}}},
    ],
}


@blueprint.get("")
@member_request
def index(session: Session, member: Member) -> Response:
    """The conversations the caller sees, latest activity first, a page at a time."""
    rows, cursor = list_conversations(
        session,
        member,
        status=request.args.get("status"),
        cursor=request.args.get("cursor"),
        limit=int_arg("limit", 50, 1, 200) or 50,
        **_filters(),
    )
    shown = [read(responses.Conversation, row) for row in rows]
    return answer(responses.Conversations(conversations=shown, next_cursor=cursor))


@blueprint.get("/dashboard")
@member_request
def counts(session: Session, member: Member) -> Response:
    """Ongoing, ended and total conversations under the same filters as the list."""
    return answer(responses.Dashboard.model_validate(dashboard(session, member, **_filters())))


@blueprint.get("/<id:conversation_id>")
@member_request
def detail(session: Session, member: Member, conversation_id: int) -> Response:
    """One conversation with its figures (and, on Messenger, its reply window)."""
    found = get_conversation(session, member, conversation_id)
    reply_window = None
    if found.channel == "messenger":
        # seen by the member (checked just above), and in the session: no second query
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        now = services().now()
        allowed = services().settings.messenger.allowed_tags
        last = conversation.last_visitor_message_at
        reply_window = window(last, now, allowed).as_json(now)
    return answer(read(responses.ConversationDetail, found, reply_window=reply_window))


@blueprint.get("/<id:conversation_id>/messages")
@member_request
def messages(session: Session, member: Member, conversation_id: int) -> Response:
    """The conversation's messages, oldest first."""
    find_conversation(session, member, conversation_id)
    found = session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
    ).all()
    return answer(responses.Messages(messages=[read(responses.Message, m) for m in found]))


@blueprint.post("/<id:conversation_id>/messages")
@member_request
def send(session: Session, member: Member, conversation_id: int) -> Response:
    """An agent replies; on Messenger, within the reply window or with an allowed tag."""
    body = json_body(REPLY_BODY)
    conversation = find_conversation(session, member, conversation_id)
    message, created = reply(
        session,
        member,
        conversation,
        body["text"],
        services().now(),
        tag=body.get("tag"),
        allowed_tags=services().settings.messenger.allowed_tags,
        client_id=body.get("client_id"),
    )
    return answer(read(responses.Message, message), 201 if created else 200)


@blueprint.post("/<id:conversation_id>/assign")
@member_request
def give(session: Session, member: Member, conversation_id: int) -> Response:
    """Assign the conversation to a member, or to no one (`null`)."""
    assignee = json_body(ASSIGN_BODY)["assignee_id"]
    conversation = find_conversation(session, member, conversation_id)
    return _changed(assign(session, member, conversation, assignee, at=services().now()))


@blueprint.post("/<id:conversation_id>/end")
@member_request
def close(session: Session, member: Member, conversation_id: int) -> Response:
    """End the conversation."""
    conversation = find_conversation(session, member, conversation_id)
    return _changed(end_conversation(session, member, conversation, at=services().now()))


@blueprint.patch("/<id:conversation_id>/tags")
@member_request
def tags(session: Session, member: Member, conversation_id: int) -> Response:
    """Add and remove conversation tags (needs conversation_tags.manage)."""
    body = json_body(TAGS_BODY)
    conversation = find_conversation(session, member, conversation_id)
    return _changed(
        set_tags(session, member, conversation, body.get("add", []), body.get("remove", []))
    )


@blueprint.post("/hosting")
@member_request
def hosting(session: Session, member: Member) -> Response:
    """Turn bot hosting on or off for listed conversations, or all assigned ones (`all`)."""
    body = json_body(HOSTING_BODY)
    changed = set_hosting(
        session,
        member,
        conversation_ids=body.get("conversation_ids"),
        all_assigned=body.get("all", False),
        on=body["on"],
        at=services().now(),
    )
    ids = [c.id for c in changed]
    return answer(responses.HostingChange(changed=len(ids), conversation_ids=ids))


def _changed(change: Change) -> Response:
    fields = {k: list(v) for k, v in change.fields.items()}
    return answer(responses.Change(changed=change.changed, fields=fields))


def _filters() -> dict[str, Any]:
    return {
        "assignee_id": int_arg("assignee_id"),
        "received_from": time_arg("received_from"),
        "received_to": time_arg("received_to"),
        "tag": request.args.get("tag"),
        "channel": request.args.get("channel"),
    }
