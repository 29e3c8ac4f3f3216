"""The OpenAPI paths of the Messenger webhook and of Settings → Channels → Messenger."""

from __future__ import annotations

from typing import Any

from web import responses
from web.messenger import PAGE_BODY, PAGE_ID, SYNC_BODY
from web.openapi_parts import errors, op, path_id, query, returns

_PAGE_ID = {"name": "page_id", "in": "path", "required": True, "schema": PAGE_ID}
_SIGNATURE = {
    "name": "X-Hub-Signature-256",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "sha256=<hex HMAC-SHA256 of the raw body with the app secret>",
}

MESSENGER_PATHS: dict[str, Any] = {
    "/webhooks/messenger": {
        "get": {
            "summary": "Meta's subscription handshake",
            "parameters": [
                query("hub.mode", {"type": "string"}, "subscribe"),
                query("hub.verify_token", {"type": "string"}, "the configured verify token"),
                query("hub.challenge", {"type": "string"}, "echoed back when the token matches"),
            ],
            "responses": {
                "200": {
                    "description": "The challenge",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **errors(403),
            },
        },
        "post": {
            "summary": "Meta's webhook events, signed with the app secret",
            "parameters": [_SIGNATURE],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {"200": returns(responses.WebhookReceipt), **errors(400, 403)},
        },
    },
    "/channels/messenger/pages": {
        "get": op("The connected Pages", returns(responses.Pages)),
        "post": op(
            "Connect a Page, or replace a connected Page's name and token",
            returns(responses.ConnectedPage, "connected"),
            status="201",
            request=PAGE_BODY,
            also={"200": returns(responses.ConnectedPage, "connected already: replaced")},
        ),
    },
    "/channels/messenger/pages/{page_id}": {
        "delete": op(
            "Disconnect a Page",
            {"description": "Disconnected"},
            status="204",
            parameters=[_PAGE_ID],
        ),
    },
    "/channels/messenger/pages/{page_id}/syncs": {
        "post": op(
            "Import the Page's contacts with their last 20 messages, in the background",
            returns(responses.Sync),
            status="202",
            parameters=[_PAGE_ID],
            request=SYNC_BODY,
            request_required=False,  # none: the recent ones
        ),
    },
    "/channels/messenger/syncs/{sync_id}": {
        "get": op("A sync's progress", returns(responses.Sync), parameters=[path_id("sync_id")]),
    },
}
