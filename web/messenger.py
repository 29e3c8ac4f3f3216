"""Messenger: the webhook Meta calls, and Settings → Channels → Messenger for members.

The webhook answers at once: a POST is refused (403) unless signed with the app secret, and
a signed one only has its items queued for the workers, so Meta's 5-second limit is never at
risk and a restart between the answer and the processing loses nothing.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from channels.messenger.pages import connect_page, own_page, own_sync, workspace_pages
from channels.messenger.sync import start_sync, sync_json
from channels.messenger.webhook import (
    SIGNATURE_HEADER,
    BadWebhook,
    handshake,
    items,
    signature_matches,
)
from chat.members import authenticate
from chat.models import Member
from chat.permissions import require
from web import responses
from web.auth import bearer_token, member_request
from web.bodies import json_body, text
from web.errors import ApiError
from web.rate_limits import address
from web.responses import answer, read
from web.services import services

webhooks = Blueprint("messenger_webhook", __name__, url_prefix="/webhooks/messenger")
blueprint = Blueprint("messenger", __name__, url_prefix="/channels/messenger")

PAGE_ID = {"type": "string", "pattern": "^[0-9]{1,64}$"}
PAGE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["page_id", "name", "access_token"],
    "properties": {
        "page_id": PAGE_ID,
        "name": text(200),
        "access_token": {"type": "string", "pattern": "^[!-~]{1,1000}$"},  # printable ASCII
    },
}
SYNC_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"scope": {"enum": ["recent", "all"]}},
}


@webhooks.get("")
def verify() -> Response:
    """Meta's subscription handshake: echo the challenge when the verify token matches."""
    challenge = handshake(request.args, services().settings.messenger.verify_token)
    if challenge is None:
        raise ApiError(403, "forbidden", "the verify token does not match", "hub.verify_token")
    return Response(challenge, mimetype="text/plain")


@webhooks.post("")
def receive() -> Response:
    """Meta's events: checked against the signature, then queued for the workers."""
    services().limiter.hit("webhook", address())
    body = request.get_data()
    secret = services().settings.messenger.app_secret
    if not signature_matches(secret, body, request.headers.get(SIGNATURE_HEADER)):
        raise ApiError(
            403, "forbidden", "missing or wrong X-Hub-Signature-256 signature", SIGNATURE_HEADER
        )
    try:
        batch = items(body)
    except BadWebhook as err:
        raise ApiError(400, "bad_request", str(err), "body") from err
    inbox = services().messenger_inbox
    inbox.accept(batch.found)
    inbox.set_aside(batch.unreadable)
    receipt = responses.WebhookReceipt(received=len(batch.found), set_aside=len(batch.unreadable))
    return answer(receipt)


@blueprint.get("/pages")
@member_request
def pages(session: Session, member: Member) -> Response:
    """The workspace's connected Pages (their tokens are never shown)."""
    require(member, "settings.manage")
    found = [read(responses.Page, page) for page in workspace_pages(session, member)]
    return answer(responses.Pages(pages=found))


@blueprint.post("/pages")
def connect() -> Response:
    """Connect a Page (or replace a connected Page's name and token) and subscribe the app
    to its webhooks (see `channels.messenger.pages`)."""
    body = json_body(PAGE_BODY)
    connection = connect_page(
        services().sessions,
        services().graph(),
        lambda session: authenticate(session, bearer_token()),
        (body["page_id"], body["name"], body["access_token"]),
        services().now,
    )
    connected = read(
        responses.ConnectedPage,
        connection.page,
        subscribed=connection.subscribe_error is None,
        subscribe_error=connection.subscribe_error,
    )
    return answer(connected, 201 if connection.created else 200)


@blueprint.delete("/pages/<page_id>")
@member_request
def disconnect(session: Session, member: Member, page_id: str) -> tuple[str, int]:
    """Disconnect a Page: its webhook items are ignored from now on; history stays."""
    require(member, "settings.manage")
    session.delete(own_page(session, member, page_id))
    return "", 204


@blueprint.post("/pages/<page_id>/syncs")
@member_request
def sync(session: Session, member: Member, page_id: str) -> Response:
    """Start importing the Page's contacts (`recent`: the last 100; `all`), in the workers."""
    require(member, "settings.manage")
    scope = json_body(SYNC_BODY, required=False).get("scope", "recent")
    job = start_sync(session, own_page(session, member, page_id), scope, services().now())
    return answer(responses.Sync.model_validate(sync_json(job)), 202)


@blueprint.get("/syncs/<id:sync_id>")
@member_request
def sync_progress(session: Session, member: Member, sync_id: int) -> Response:
    """A sync's progress: pages fetched, contacts and messages imported, errors, state."""
    require(member, "settings.manage")
    return answer(responses.Sync.model_validate(sync_json(own_sync(session, member, sync_id))))
