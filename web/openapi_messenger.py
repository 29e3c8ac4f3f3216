"""The OpenAPI paths of the Messenger webhook and of Settings → Channels → Messenger."""

from __future__ import annotations

from typing import Any

from web.messenger import PAGE_BODY, PAGE_ID, SYNC_BODY
from web.openapi_parts import OBJECT, errors, json_response, op, path_id, query

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
            "requestBody": {"required": True, "content": {"application/json": {"schema": OBJECT}}},
            "responses": {"200": json_response(OBJECT), **errors(400, 403)},
        },
    },
    "/channels/messenger/pages": {
        "get": op("The connected Pages", json_response(OBJECT)),
        "post": op(
            "Connect a Page, or replace a connected Page's name and token",
            json_response(OBJECT),
            status="201",
            body=PAGE_BODY,
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
            json_response(OBJECT),
            status="202",
            parameters=[_PAGE_ID],
            body=SYNC_BODY,
        ),
    },
    "/channels/messenger/syncs/{sync_id}": {
        "get": op("A sync's progress", json_response(OBJECT), parameters=[path_id("sync_id")]),
    },
}
