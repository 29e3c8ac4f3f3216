"""The OpenAPI description of the members, contacts and conversations routes."""

from __future__ import annotations

from typing import Any

from web.args import MAX_ID
from web.bodies import REPLY_BODY
from web.notifications import SETTINGS_BODY
from web.openapi_parts import ID, OBJECT, fields, json_response, op, path_id, query

_PAGE_ARGS = [
    query("cursor", {"type": "string"}, "from the previous page"),
    query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
]
_CONVERSATION_FILTERS = [
    query("assignee_id", ID, "assigned to this member"),
    query("received_from", {"type": "string", "format": "date-time"}, "received at or after"),
    query("received_to", {"type": "string", "format": "date-time"}, "received before"),
    query("tag", {"type": "string"}, "has this conversation tag"),
    query("channel", {"enum": ["messenger", "widget"]}, "on this channel"),
]
_CHANGED = json_response(
    {
        "type": "object",
        "required": ["changed", "fields"],
        "properties": {"changed": {"type": "boolean"}, "fields": OBJECT},
    }
)


_MEMBER = json_response(OBJECT)
_TOKEN: dict[str, Any] = fields(
    {
        "id": ID,
        "prefix": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {"type": ["string", "null"], "format": "date-time"},
    },
    ["id", "prefix", "created_at", "last_used_at"],
)
_PERMISSION_LIST = {"type": "array", "items": {"type": "string"}}

CHAT_PATHS: dict[str, Any] = {
    "/me": {"get": op("The calling member", _MEMBER)},
    "/me/settings": {
        "patch": op(
            "The caller's own list settings",
            _MEMBER,
            body=fields(
                {
                    "show_visitor_tags": {"type": "boolean"},
                    "prefer_remark_name": {"type": "boolean"},
                }
            ),
        )
    },
    "/members": {
        "get": op("The workspace's members", json_response(OBJECT)),
        "post": op(
            "Add an admin or agent; their API token is shown once",
            _MEMBER,
            status="201",
            body=fields(
                {
                    "email": {"type": "string"},
                    "name": {"type": "string"},
                    "role": {"enum": ["admin", "agent"]},
                    "permissions": _PERMISSION_LIST,
                },
                ["email", "name", "role"],
            ),
        ),
    },
    "/members/{member_id}/permissions": {
        "put": op(
            "Replace a member's permissions",
            _MEMBER,
            parameters=[path_id("member_id")],
            body=fields(
                {"permissions": _PERMISSION_LIST, "role": {"enum": ["admin", "agent"]}},
                ["permissions"],
            ),
        ),
    },
    "/members/{member_id}/tokens": {
        "get": op(
            "A member's API tokens (owner only)",
            json_response(fields({"tokens": {"type": "array", "items": _TOKEN}}, ["tokens"])),
            parameters=[path_id("member_id")],
        ),
        "post": op(
            "Issue a new API token for a member (owner only), shown this once",
            json_response(
                {
                    **_TOKEN,
                    "required": [*_TOKEN["required"], "api_token"],
                    "properties": {**_TOKEN["properties"], "api_token": {"type": "string"}},
                }
            ),
            status="201",
            parameters=[path_id("member_id")],
        ),
    },
    "/members/{member_id}/tokens/{token_id}": {
        "delete": op(
            "Revoke a member's API token (owner only)",
            {"description": "revoked"},
            status="204",
            parameters=[path_id("member_id"), path_id("token_id")],
        ),
    },
    "/contacts": {
        "get": op(
            "Contacts, newest first",
            json_response(OBJECT),
            parameters=[
                query("remark_name", {"type": "string"}, "remark name is exactly this"),
                query("remark_contains", {"type": "string"}, "remark name contains this"),
                query("search", {"type": "string"}, "name, remark name, phone or email"),
                *_PAGE_ARGS,
            ],
        ),
    },
    "/contacts/{contact_id}": {
        "get": op("One contact", json_response(OBJECT), parameters=[path_id("contact_id")]),
        "delete": op(
            "Delete a contact with their conversations and messages (owner or admin)",
            {"description": "deleted"},
            status="204",
            parameters=[path_id("contact_id")],
        ),
        "patch": op(
            "Edit remark name, phone, email",
            json_response(OBJECT),
            parameters=[path_id("contact_id")],
            body=fields(
                {k: {"type": ["string", "null"]} for k in ("remark_name", "phone", "email")}
            ),
        ),
    },
    "/conversations": {
        "get": op(
            "Conversations, latest activity first",
            json_response(OBJECT),
            parameters=[
                query("status", {"enum": ["ongoing", "ended"]}, "ongoing or ended"),
                *_CONVERSATION_FILTERS,
                *_PAGE_ARGS,
            ],
        ),
    },
    "/conversations/dashboard": {
        "get": op(
            "Ongoing, ended and total conversations",
            json_response(OBJECT),
            parameters=_CONVERSATION_FILTERS,
        ),
    },
    "/conversations/hosting": {
        "post": op(
            "Bot hosting on or off for listed or all assigned conversations",
            json_response(OBJECT),
            body=fields(
                {
                    "on": {"type": "boolean"},
                    "all": {"type": "boolean"},
                    "conversation_ids": {"type": "array", "items": ID},
                },
                ["on"],
            ),
        ),
    },
    "/conversations/{conversation_id}": {
        "get": op(
            "One conversation with its figures",
            json_response(OBJECT),
            parameters=[path_id("conversation_id")],
        ),
    },
    "/conversations/{conversation_id}/messages": {
        "get": op(
            "The conversation's messages",
            json_response(OBJECT),
            parameters=[path_id("conversation_id")],
        ),
        "post": op(
            "An agent replies (on Messenger past 7 days, with an allowed message tag)",
            json_response(OBJECT),
            status="201",
            parameters=[path_id("conversation_id")],
            body=REPLY_BODY,
        ),
    },
    "/conversations/{conversation_id}/assign": {
        "post": op(
            "Assign to a member, or to no one",
            _CHANGED,
            parameters=[path_id("conversation_id")],
            body=fields(
                {"assignee_id": {"type": ["integer", "null"], "maximum": MAX_ID}},
                ["assignee_id"],
            ),
        ),
    },
    "/conversations/{conversation_id}/end": {
        "post": op("End the conversation", _CHANGED, parameters=[path_id("conversation_id")]),
    },
    "/conversations/{conversation_id}/tags": {
        "patch": op(
            "Add and remove conversation tags",
            _CHANGED,
            parameters=[path_id("conversation_id")],
            body=fields(
                {
                    "add": {"type": "array", "items": {"type": "string"}},
                    "remove": {"type": "array", "items": {"type": "string"}},
                }
            ),
        ),
    },
    "/conversations/{conversation_id}/notifications": {
        "get": op(
            "The emails about the conversation's waiting visitor, and how they went",
            json_response(OBJECT),
            parameters=[path_id("conversation_id")],
        ),
    },
    "/settings/notifications": {
        "get": op(
            "New message notifications: the email switch and waiting time", json_response(OBJECT)
        ),
        "patch": op(
            "Change the email switch or the waiting time (settings.manage)",
            json_response(OBJECT),
            body=SETTINGS_BODY,
        ),
    },
}
