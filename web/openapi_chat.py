"""The OpenAPI description of the members, contacts and conversations routes."""

from __future__ import annotations

from typing import Any

from chat.paging import CURSOR, POSITION
from web import responses
from web.args import SEARCH_MAX
from web.bodies import REPLY_BODY, TAG, text
from web.contacts import EDIT_BODY
from web.conversations import ASSIGN_BODY, HOSTING_BODY, TAGS_BODY
from web.members import NEW_MEMBER_BODY, PERMISSIONS_BODY, SETTINGS_BODY
from web.notifications import SETTINGS_BODY as NOTIFICATION_SETTINGS_BODY
from web.openapi_parts import ID, op, path_id, query, returns

_LIMIT = query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size")
_NEXT = "the previous page's next_cursor"
_SEARCH = text(SEARCH_MAX, blank=True)
_CONVERSATION_FILTERS = [
    query("assignee_id", ID, "assigned to this member"),
    query("received_from", {"type": "string", "format": "date-time"}, "received at or after"),
    query("received_to", {"type": "string", "format": "date-time"}, "received before"),
    query("tag", TAG, "has this conversation tag"),
    query("channel", {"enum": ["messenger", "widget"]}, "on this channel"),
]
_CHANGED = returns(responses.Change)
_MEMBER = returns(responses.Member)

CHAT_PATHS: dict[str, Any] = {
    "/me": {"get": op("The calling member", _MEMBER)},
    "/me/settings": {
        "patch": op(
            "The caller's own list settings",
            _MEMBER,
            request=SETTINGS_BODY,
        )
    },
    "/members": {
        "get": op("The workspace's members", returns(responses.Members)),
        "post": op(
            "Add an admin or agent; their API token is shown once",
            returns(responses.NewMember),
            status="201",
            request=NEW_MEMBER_BODY,
        ),
    },
    "/members/{member_id}/permissions": {
        "put": op(
            "Replace a member's permissions",
            _MEMBER,
            parameters=[path_id("member_id")],
            request=PERMISSIONS_BODY,
        ),
    },
    "/members/{member_id}/tokens": {
        "get": op(
            "A member's API tokens (owner only)",
            returns(responses.Tokens),
            parameters=[path_id("member_id")],
        ),
        "post": op(
            "Issue a new API token for a member (owner only), shown this once",
            returns(responses.NewToken),
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
            returns(responses.Contacts),
            parameters=[
                query("remark_name", _SEARCH, "remark name is exactly this"),
                query("remark_contains", _SEARCH, "remark name contains this"),
                query("search", _SEARCH, "name, remark name, phone or email"),
                query("cursor", {"type": "string", "pattern": CURSOR}, _NEXT),
                _LIMIT,
            ],
        ),
    },
    "/contacts/{contact_id}": {
        "get": op("One contact", returns(responses.Contact), parameters=[path_id("contact_id")]),
        "delete": op(
            "Delete a contact with their conversations and messages (owner or admin)",
            {"description": "deleted"},
            status="204",
            parameters=[path_id("contact_id")],
        ),
        "patch": op(
            "Edit remark name, phone, email",
            returns(responses.Contact),
            parameters=[path_id("contact_id")],
            request=EDIT_BODY,
        ),
    },
    "/conversations": {
        "get": op(
            "Conversations, latest activity first",
            returns(responses.Conversations),
            parameters=[
                query("status", {"enum": ["ongoing", "ended"]}, "ongoing or ended"),
                *_CONVERSATION_FILTERS,
                query("cursor", {"type": "string", "pattern": POSITION}, _NEXT),
                _LIMIT,
            ],
        ),
    },
    "/conversations/dashboard": {
        "get": op(
            "Ongoing, ended and total conversations",
            returns(responses.Dashboard),
            parameters=_CONVERSATION_FILTERS,
        ),
    },
    "/conversations/hosting": {
        "post": op(
            "Bot hosting on or off for listed or all assigned conversations",
            returns(responses.HostingChange),
            request=HOSTING_BODY,
        ),
    },
    "/conversations/{conversation_id}": {
        "get": op(
            "One conversation with its figures",
            returns(responses.ConversationDetail),
            parameters=[path_id("conversation_id")],
        ),
    },
    "/conversations/{conversation_id}/messages": {
        "get": op(
            "The conversation's messages",
            returns(responses.Messages),
            parameters=[path_id("conversation_id")],
        ),
        "post": op(
            "An agent replies (on Messenger past 7 days, with an allowed message tag)",
            returns(responses.Message),
            status="201",
            parameters=[path_id("conversation_id")],
            request=REPLY_BODY,
            also={"200": returns(responses.Message, "sent before with this client_id: kept once")},
        ),
    },
    "/conversations/{conversation_id}/assign": {
        "post": op(
            "Assign to a member, or to no one",
            _CHANGED,
            parameters=[path_id("conversation_id")],
            request=ASSIGN_BODY,
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
            request=TAGS_BODY,
        ),
    },
    "/conversations/{conversation_id}/notifications": {
        "get": op(
            "The emails about the conversation's waiting visitor, and how they went",
            returns(responses.Notifications),
            parameters=[path_id("conversation_id")],
        ),
    },
    "/settings/notifications": {
        "get": op(
            "New message notifications: the email switch and waiting time",
            returns(responses.NotificationSettings),
        ),
        "patch": op(
            "Change the email switch or the waiting time (settings.manage)",
            returns(responses.NotificationSettings),
            request=NOTIFICATION_SETTINGS_BODY,
        ),
    },
}
