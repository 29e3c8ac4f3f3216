"""Messenger: the webhook Meta calls, and Settings → Channels → Messenger for members.

The webhook answers at once: a POST is refused (403) unless signed with the app secret, and
a signed one only has its items queued for the workers, so Meta's 5-second limit is never at
risk and a restart between the answer and the processing loses nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.messenger.graph import GraphError
from channels.messenger.people import find_page
from channels.messenger.sync import start_sync, sync_json
from channels.messenger.webhook import (
    SIGNATURE_HEADER,
    BadWebhook,
    handshake,
    items,
    signature_matches,
)
from chat.members import authenticate
from chat.models import Member, MessengerPage, MessengerSync
from chat.permissions import require
from web.auth import bearer_token, member_request
from web.bodies import json_body
from web.errors import ApiError
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
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
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
def receive() -> tuple[Response, int]:
    """Meta's events: checked against the signature, then queued for the workers."""
    body = request.get_data()
    secret = services().settings.messenger.app_secret
    if not signature_matches(secret, body, request.headers.get(SIGNATURE_HEADER)):
        raise ApiError(
            403, "forbidden", "missing or wrong X-Hub-Signature-256 signature", SIGNATURE_HEADER
        )
    try:
        found = items(body)
    except BadWebhook as err:
        raise ApiError(400, "bad_request", str(err), "body") from err
    services().messenger_inbox.accept(found)
    return jsonify({"received": len(found)}), 200


@blueprint.get("/pages")
@member_request
def pages(session: Session, member: Member) -> Response:
    """The workspace's connected Pages (their tokens are never shown)."""
    require(member, "settings.manage")
    found = session.scalars(
        select(MessengerPage)
        .where(MessengerPage.workspace_id == member.workspace_id)
        .order_by(MessengerPage.id)
    ).all()
    return jsonify({"pages": [_page_json(page) for page in found]})


@blueprint.post("/pages")
def connect() -> tuple[Response, int]:
    """Connect a Page (or replace a connected Page's name and token) and subscribe the app
    to its webhooks; the Graph API is called between two short transactions, so no database
    lock waits on Meta."""
    body = json_body(PAGE_BODY)
    with services().sessions.begin() as session:
        member = authenticate(session, bearer_token())
        require(member, "settings.manage")
        workspace_id = member.workspace_id
        _refuse_foreign(find_page(session, body["page_id"]), workspace_id)
    subscription = _subscribe(body["page_id"], body["access_token"])
    with services().sessions.begin() as session:
        page = find_page(session, body["page_id"])
        _refuse_foreign(page, workspace_id)
        created = page is None
        if page is None:
            page = MessengerPage(
                workspace_id=workspace_id, page_id=body["page_id"], connected_at=services().now()
            )
            session.add(page)
        page.name, page.access_token = body["name"], body["access_token"]
        session.flush()
        answer = {**_page_json(page), **subscription}
    return jsonify(answer), 201 if created else 200


@blueprint.delete("/pages/<page_id>")
@member_request
def disconnect(session: Session, member: Member, page_id: str) -> tuple[str, int]:
    """Disconnect a Page: its webhook items are ignored from now on; history stays."""
    require(member, "settings.manage")
    session.delete(_own_page(session, member, page_id))
    return "", 204


@blueprint.post("/pages/<page_id>/syncs")
@member_request
def sync(session: Session, member: Member, page_id: str) -> tuple[Response, int]:
    """Start importing the Page's contacts (`recent`: the last 100; `all`), in the workers."""
    require(member, "settings.manage")
    scope = json_body(SYNC_BODY).get("scope", "recent")
    job = start_sync(session, _own_page(session, member, page_id), scope, services().now())
    return jsonify(sync_json(job)), 202


@blueprint.get("/syncs/<id:sync_id>")
@member_request
def sync_progress(session: Session, member: Member, sync_id: int) -> Response:
    """A sync's progress: pages fetched, contacts and messages imported, errors, state."""
    require(member, "settings.manage")
    job = session.get(MessengerSync, sync_id)
    page = session.get(MessengerPage, job.page_id) if job else None
    if job is None or page is None or page.workspace_id != member.workspace_id:
        raise ApiError(404, "not_found", f"no sync {sync_id} here", "sync_id")
    return jsonify(sync_json(job))


def _own_page(session: Session, member: Member, page_id: str) -> MessengerPage:
    page = find_page(session, page_id)
    if page is None or page.workspace_id != member.workspace_id:
        raise ApiError(404, "not_found", f"no Page {page_id} is connected here", "page_id")
    return page


def _page_json(page: MessengerPage) -> dict[str, Any]:
    return {
        "page_id": page.page_id,
        "name": page.name,
        "connected_at": page.connected_at.isoformat(),
    }


def _refuse_foreign(page: MessengerPage | None, workspace_id: int) -> None:
    if page is not None and page.workspace_id != workspace_id:
        raise ApiError(409, "conflict", "this Page is connected to another workspace", "page_id")


def _subscribe(page_id: str, token: str) -> dict[str, Any]:
    """Subscribe the app to the Page's webhooks; a failure is reported, not fatal."""
    try:
        services().graph().subscribe(page_id, token)
    except GraphError as err:
        return {"subscribed": False, "subscribe_error": f"{err.reason}: {err}"}
    return {"subscribed": True, "subscribe_error": None}
