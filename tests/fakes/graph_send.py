"""The Send API's checks: the request's shape, message tags and the reply window.

Meta's rules as messenger.md gives them: RESPONSE/UPDATE within 24 hours of the person's last
message; HUMAN_AGENT up to 7 days; another tag at any time unless Meta retired it (error 100).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from tests.fakes.graph_state import DAY, GraphFault, GraphState, Message, Page, invalid

RETIRED_TAGS = frozenset({"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"})
KNOWN_TAGS = RETIRED_TAGS | {"HUMAN_AGENT", "CUSTOMER_FEEDBACK"}
MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
TEXT_LIMIT = 2000
METADATA_LIMIT = 1000
QUICK_REPLY_LIMIT = 13


def outside_window() -> GraphFault:
    """The error Meta gives a send outside the allowed window (10/2018278)."""
    return GraphFault(10, "(#10) This message is sent outside of allowed window", subcode=2018278)


def send_body(params: Mapping[str, Any]) -> dict[str, Any]:
    """The send request as JSON, from a JSON body or a form whose values are JSON strings."""
    body = dict(params)
    for key in ("recipient", "message"):
        if isinstance(body.get(key), str):
            try:
                body[key] = json.loads(body[key])
            except ValueError:
                raise invalid(f"param {key} must be a JSON object") from None
    return body


def accept_send(
    state: GraphState, page: Page, body: Mapping[str, Any], retired_tags: Collection[str]
) -> Message:
    """Check a send against Meta's rules and store it as the Page's message."""
    recipient = body.get("recipient")
    psid = recipient.get("id") if isinstance(recipient, dict) else None
    person = state.people.get(str(psid))
    if person is None or person.page_id != page.id:
        raise invalid("No matching user found", subcode=2018001)
    message = body.get("message")
    if not isinstance(message, dict):
        raise invalid("param message must be non-empty.")
    check_tag(body.get("messaging_type"), body.get("tag"), retired_tags, page)
    check_content(message)
    check_window(state.clock - (person.last_inbound or float("-inf")), body.get("tag"))
    stored = state.new_message(
        page.id,
        person.psid,
        text=message.get("text"),
        quick_replies=list(message.get("quick_replies", [])),
        metadata=message.get("metadata"),
    )
    return state.record(state.conversation_with(person), stored)


def check_tag(
    messaging_type: object, tag: object, retired_tags: Collection[str], page: Page
) -> None:
    """`messaging_type` and `tag` must pair up, and the tag be one Meta still accepts."""
    if messaging_type not in MESSAGING_TYPES:
        raise invalid("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
    if (messaging_type == "MESSAGE_TAG") != (tag is not None):
        raise invalid("param tag must be set with messaging_type MESSAGE_TAG, and only then")
    if tag is not None and (tag not in KNOWN_TAGS or tag in retired_tags):
        raise invalid(f"param tag: {tag} is not a valid message tag")
    if tag == "HUMAN_AGENT" and not page.human_agent:
        raise GraphFault(10, "(#10) This Page may not use the HUMAN_AGENT tag", http_status=403)


def check_content(message: Mapping[str, Any]) -> None:
    """Text under 2,000 characters, metadata under 1,000, well-formed quick replies."""
    text = message.get("text")
    if not isinstance(text, str) or not text:
        raise invalid("param message[text] must be a non-empty string")
    if len(text) >= TEXT_LIMIT:
        raise invalid("Length of param message[text] must be less than 2000")
    if len(str(message.get("metadata") or "")) >= METADATA_LIMIT:
        raise invalid("Length of param message[metadata] must be less than 1000")
    replies = message.get("quick_replies", [])
    if not isinstance(replies, list) or len(replies) > QUICK_REPLY_LIMIT:
        raise invalid("param message[quick_replies] must be a list of at most 13")
    for reply in replies:
        if not isinstance(reply, dict) or reply.get("content_type") != "text":
            raise invalid("param message[quick_replies][content_type] must be text")
        if not reply.get("title") or not reply.get("payload"):
            raise invalid("param message[quick_replies] needs a title and a payload")


def check_window(since_inbound: float, tag: object) -> None:
    """Within 24 h anything goes; HUMAN_AGENT up to 7 days; after that other tags only."""
    if since_inbound <= DAY:
        return
    if tag == "HUMAN_AGENT" and since_inbound <= 7 * DAY:
        return
    if tag is None or tag == "HUMAN_AGENT":
        raise outside_window()
