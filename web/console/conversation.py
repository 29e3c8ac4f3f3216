"""A conversation's own page: its messages, the reply box, the agent's actions, the customer.

`GET /inbox/<id>` is the whole page. Each part of it is served alone at `/inbox/<id>/<part>`
and re-fetches itself when a live notice says its conversation or contact changed, so what
another agent (or the visitor, or a flow) did shows without a reload. The actions are htmx
POSTs answering with the part they changed: after a change, with an `HX-Trigger` so the
page's other parts follow at once; after a refusal of the chat layer, with its reason in the
agent's language at the control concerned (nothing was written: the chat functions check
everything before they change anything).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chat.contacts import delete_contact, edit_contact
from chat.conversation_detail import conversation_messages, workspace_members
from chat.errors import ChatError, NotFound
from chat.inbox import ConversationRow, find_conversation, get_conversation
from chat.inbox_actions import assign, end_conversation, reply, set_hosting, set_tags
from chat.models import Contact, Conversation, Member
from chat.reply_window import Window, window
from web.console.base import blueprint, console_page, page
from web.console.messages import error_text
from web.services import services

CONTACT_FIELDS = {
    "remark_name": _l("Remark name"),
    "phone": _l("Phone"),
    "email": _l("Email"),
}
DELIVERY = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "read": _l("Read"),
    "skipped": _l("Not sent"),
    "failed": _l("Failed"),
}
MESSAGE_TAGS = {  # Meta's tag names as agents read them; other names show as they are
    "HUMAN_AGENT": _l("Human agent"),
    "CONFIRMED_EVENT_UPDATE": _l("Confirmed event update"),
    "POST_PURCHASE_UPDATE": _l("Post-purchase update"),
    "ACCOUNT_UPDATE": _l("Account update"),
}


@dataclass(frozen=True, slots=True)
class View:
    """What every part of the page shows of one conversation, as the signed-in member sees it."""

    row: ConversationRow
    conversation: Conversation
    contact: Contact
    members: dict[int, Member]  # the workspace's, by id
    window: Window | None  # Messenger's reply window; None on the widget
    now: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the chat layer refused an action, in the agent's language, and the control at fault."""

    control: str  # the part's control the agent used ("assign", "tags", a contact field...)
    field: str | None  # the value at fault, as the chat layer names it
    text: str
    status: int


@blueprint.get("/inbox/<id:conversation_id>")
@console_page
def conversation(session: Session, member: Member, conversation_id: int) -> ResponseReturnValue:
    """The conversation's page; a 404 page if the member does not see it."""
    try:
        found = _view(session, member, conversation_id)
    except NotFound:
        return page("console/conversation_missing.html", 404)
    messages = conversation_messages(session, member, conversation_id)
    return page("console/conversation.html", **_context(found), messages=messages)


@blueprint.get("/inbox/<id:conversation_id>/<any(header,messages,reply,actions,customer):part>")
@console_page
def conversation_part(
    session: Session, member: Member, conversation_id: int, part: str
) -> ResponseReturnValue:
    """One part of the page, re-fetched; `?edit=<field>` has the customer panel edit a field,
    `?focus=<element id>` puts the keyboard focus there."""
    editing, focus = request.args.get("edit"), request.args.get("focus")
    return _part(session, member, conversation_id, part, editing=editing, focus=focus)


@blueprint.post("/inbox/<id:conversation_id>/reply")
@console_page
def conversation_reply(
    session: Session, member: Member, conversation_id: int
) -> ResponseReturnValue:
    """Send the agent's reply (on Messenger past the window, with the message tag chosen)."""
    text, tag = request.form.get("text", ""), request.form.get("tag") or None
    client_id = request.form.get("client_id") or None
    messenger = services().settings.messenger

    def act(conversation: Conversation) -> object:
        return reply(
            session,
            member,
            conversation,
            text,
            services().now(),
            tag=tag,
            allowed_tags=messenger.allowed_tags,
            client_id=client_id,
        )

    refusal = _attempt("reply", act, session, member, conversation_id)
    kept = {"text": text, "tag": tag} if refusal else {}
    return _answer(session, member, conversation_id, "reply", refusal, "reply-text", **kept)


@blueprint.post("/inbox/<id:conversation_id>/assign")
@console_page
def conversation_assign(
    session: Session, member: Member, conversation_id: int
) -> ResponseReturnValue:
    """Give the conversation to the member chosen, or to no one."""
    raw = request.form.get("assignee_id", "")
    # Anything but an id or "" becomes 0, which no member has: the chat layer refuses it.
    assignee = None if raw == "" else int(raw) if raw.isascii() and raw.isdigit() else 0

    def act(conversation: Conversation) -> object:
        return assign(session, member, conversation, assignee, at=services().now())

    refusal = _attempt("assign", act, session, member, conversation_id)
    return _answer(session, member, conversation_id, "actions", refusal, "assignee")


@blueprint.post("/inbox/<id:conversation_id>/end")
@console_page
def conversation_end(session: Session, member: Member, conversation_id: int) -> ResponseReturnValue:
    """End the conversation."""

    def act(conversation: Conversation) -> object:
        return end_conversation(session, member, conversation, at=services().now())

    refusal = _attempt("end", act, session, member, conversation_id)
    return _answer(session, member, conversation_id, "actions", refusal, "conversation-status")


@blueprint.post("/inbox/<id:conversation_id>/hosting")
@console_page
def conversation_hosting(
    session: Session, member: Member, conversation_id: int
) -> ResponseReturnValue:
    """Switch bot hosting on or off for this conversation."""
    on = request.form.get("on") == "true"

    def act(conversation: Conversation) -> object:
        ids = [conversation.id]
        return set_hosting(session, member, conversation_ids=ids, on=on, at=services().now())

    refusal = _attempt("hosting", act, session, member, conversation_id)
    return _answer(session, member, conversation_id, "actions", refusal, "hosting-toggle")


@blueprint.post("/inbox/<id:conversation_id>/tags")
@console_page
def conversation_tags(
    session: Session, member: Member, conversation_id: int
) -> ResponseReturnValue:
    """Add a conversation tag or remove one (needs conversation_tags.manage)."""
    add, remove = request.form.getlist("add"), request.form.getlist("remove")

    def act(conversation: Conversation) -> object:
        return set_tags(session, member, conversation, add, remove)

    refusal = _attempt("tags", act, session, member, conversation_id)
    kept = {"new_tag": add[0] if refusal and add else ""}
    return _answer(session, member, conversation_id, "actions", refusal, "new-tag", **kept)


@blueprint.post("/inbox/<id:conversation_id>/customer")
@console_page
def conversation_customer(
    session: Session, member: Member, conversation_id: int
) -> ResponseReturnValue:
    """Change the contact's remark name, phone or email (needs contacts.edit); empty clears it."""
    field, value = request.form.get("field", ""), request.form.get("value", "")

    def act(conversation: Conversation) -> object:
        return edit_contact(session, member, conversation.contact_id, **{field: value})

    refusal = _attempt(field, act, session, member, conversation_id)
    whole = not request.headers.get("HX-Request")  # posted by the browser itself, no htmx
    if refusal is not None:
        part = "page" if whole else "customer"
        kept = {"editing": field, "value": value, "refusal": refusal}
        return _part(session, member, conversation_id, part, status=refusal.status, **kept)
    if whole:
        return redirect(url_for("console.conversation", conversation_id=conversation_id), 303)
    response = _part(session, member, conversation_id, "customer", focus=f"edit-{field}")
    response.headers["HX-Trigger"] = _trigger("contact-changed")
    return response


@blueprint.post("/inbox/<id:conversation_id>/delete-customer")
@console_page
def conversation_delete_customer(
    session: Session, member: Member, conversation_id: int
) -> ResponseReturnValue:
    """Delete the conversation's contact for a privacy request (the owner or an admin), then
    back to the inbox."""
    if request.form.get("confirm") != "yes":
        abort(400, "tick the box that says this cannot be undone")
    conversation = find_conversation(session, member, conversation_id)  # seen by them, or 404
    delete_contact(session, member, conversation.contact_id, services().now())
    return redirect(url_for("console.inbox"), 303)


def _view(session: Session, member: Member, conversation_id: int) -> View:
    row = get_conversation(session, member, conversation_id)
    found = session.get(Conversation, conversation_id)  # seen by the member: checked above
    assert found is not None
    now = services().now()
    shown = None
    if found.channel == "messenger":
        allowed = services().settings.messenger.allowed_tags
        shown = window(found.last_visitor_message_at, now, allowed)
    members = {m.id: m for m in workspace_members(session, member)}
    return View(row, found, found.contact, members, shown, now)


def _context(found: View) -> dict[str, Any]:  # Any: page() takes them as keywords
    return {
        "base": url_for("console.conversation", conversation_id=found.row.id),
        "view": found,
        "row": found.row,
        "contact": found.contact,
        "contact_fields": CONTACT_FIELDS,
        "delivery": DELIVERY,
        "message_tags": MESSAGE_TAGS,
    }


def _attempt(
    control: str,
    act: Callable[[Conversation], object],
    session: Session,
    member: Member,
    conversation_id: int,
) -> Refusal | None:
    """Run `act` on the conversation; the chat layer's refusal, if it refused."""
    try:
        act(find_conversation(session, member, conversation_id))
    except ChatError as err:
        return Refusal(control, err.field, error_text(err), err.status)
    return None


def _answer(
    session: Session,
    member: Member,
    conversation_id: int,
    part: str,
    refusal: Refusal | None,
    focus: str,
    **kept: object,
) -> Response:
    """The part an action changed: refreshed after a change, with the refusal otherwise."""
    if refusal is not None:
        status = refusal.status
        return _part(session, member, conversation_id, part, status=status, refusal=refusal, **kept)
    response = _part(session, member, conversation_id, part, focus=focus)
    response.headers["HX-Trigger"] = _trigger("conversation-changed")
    return response


def _part(
    session: Session,
    member: Member,
    conversation_id: int,
    part: str,
    *,
    status: int = 200,
    **extra: object,
) -> Response:
    """One part of the page; if the member no longer sees the conversation (it went to
    someone else), the whole page instead, which says so."""
    try:
        found = _view(session, member, conversation_id)
    except NotFound:
        response = Response(status=404)
        target = url_for("console.conversation", conversation_id=conversation_id)
        response.headers["HX-Redirect"] = target
        return response
    context = _context(found) | extra
    if part in ("messages", "page"):
        context["messages"] = conversation_messages(session, member, conversation_id)
    if part == "page":  # the whole page, for a form the browser posted without htmx
        return page("console/conversation.html", status, **context)
    return page(f"console/conversation_{part}.html", status, **context)


def _trigger(event: str) -> str:
    """An HX-Trigger header firing `event` on the body, where the page's parts hear it even
    when the element that asked has been swapped out."""
    return json.dumps({event: {"target": "body"}})
