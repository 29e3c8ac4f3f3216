"""Sending agents' replies and flows' messages through the Send API, each at most once.

The queue is the messages table itself: a message Parley must send is recorded `pending` in
the transaction that records it, so nothing is queued for a message that was not stored, nor
lost after one that was. A worker claims pending messages (`sending`, committed before the
request), sends, and records the outcome:

- `sent`, with Meta's message id; the echo, which carries `parley:<message id>` as metadata,
  confirms it too and may arrive first;
- back to `pending` for a later attempt when Meta throttled the Page or failed before
  accepting the message, after the wait its usage headers give (or chat.jobs' policy's);
- `failed` with the reason (window closed, person unavailable, token expired...), shown to
  agents on the message;
- `skipped` for a flow's message outside the 24-hour window.

Sending is a job of chat.jobs' runner. A message is never sent twice: a claimed message is
never claimed again, so a worker dying mid-send leaves it `sending` until its lease lapses
and it is marked failed, unconfirmed (`interrupted`); a timeout, after which Meta may or may
not have delivered it, is recorded the same way. In both cases the echo, if it comes, turns
it into `sent`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, sessionmaker

from channels.messenger.graph import GraphClient, GraphError, QuickReply, Sent
from channels.messenger.inbound import METADATA_PREFIX, TEXT_PAYLOAD
from channels.messenger.people import find_page
from chat.jobs import Failure, LeasedJobs, RetryPolicy
from chat.models import Conversation, Message
from chat.reply_window import (
    Terms,
    WindowClosed,
    agent_terms,
    bot_skip_reason,
    bot_terms,
)

# Throttles and outages: Meta's wait when its usage headers give one, else from 2 s, doubling,
# at most 5 minutes; five tries in all.
SEND_RETRY = RetryPolicy(first=2.0, cap=300.0, attempts=5)
# A message still `sending` this long after its claim belonged to a worker that died mid-send:
# it is not sent again (it may have gone out), but marked failed until its echo says more.
SENDING_LEASE = timedelta(minutes=5)
UNCONFIRMED = (
    "unconfirmed: the send was interrupted, so the message may have reached the visitor; "
    "its echo will mark it sent if it did"
)
QUICK_REPLIES_MAX = 13  # Messenger's limit per message
QUICK_REPLY_TITLE_MAX = 20


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed message, with all the send needs (read inside the claiming transaction)."""

    message_id: int
    attempt: int
    page_id: str
    token: str
    psid: str
    text: str
    quick_replies: list[QuickReply]
    terms: Terms


@dataclass
class MessengerSender:
    """Claims pending Messenger messages and sends them: a job of chat.jobs' runner."""

    sessions: sessionmaker[Session]
    graph: GraphClient
    now: Callable[[], datetime]
    table = Message
    lease = SENDING_LEASE

    def run_once(self, limit: int = 20) -> int:
        """Send what is due; returns how many messages were claimed or settled."""
        return LeasedJobs(self).run_once(limit)

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Pending messages, once their retry's time has come and no earlier message of
        their conversation still waits to go out: a visitor reads them in the order they
        were written, even when Meta throttled the first or another worker holds it."""
        waited = or_(Message.send_after.is_(None), Message.send_after <= now)
        earlier = aliased(Message)
        queued_before = exists().where(
            earlier.conversation_id == Message.conversation_id,
            earlier.id < Message.id,
            earlier.delivery.in_(("pending", "sending")),
        )
        return and_(Message.delivery == "pending", waited, ~queued_before)

    def lapsed(self, now: datetime) -> ColumnElement[bool]:
        """Messages still `sending` past their lease (`send_after` holds its end)."""
        return and_(Message.delivery == "sending", Message.send_after <= now)

    def order(self) -> tuple[InstrumentedAttribute[int]]:
        """Oldest first."""
        return (Message.id,)

    def take(
        self, session: Session, message: Message, now: datetime, until: datetime
    ) -> Outgoing | None:
        """Mark `message` sending, or settle it here (skipped, or failed before trying)."""
        outgoing = _prepare(session, message, now)
        if outgoing is not None:
            message.delivery, message.send_attempts = "sending", outgoing.attempt
            message.send_after = until
        return outgoing

    def do(self, outgoing: Outgoing) -> Sent | Failure:
        """Send it through the Send API."""
        try:
            return self.graph.send_message(
                outgoing.page_id,
                outgoing.token,
                outgoing.psid,
                outgoing.text,
                quick_replies=outgoing.quick_replies,
                messaging_type=outgoing.terms.messaging_type,
                tag=outgoing.terms.tag,
                metadata=f"{METADATA_PREFIX}{outgoing.message_id}",
            )
        except GraphError as err:
            retry = (err.throttled or err.transient) and not err.delivered_unknown
            return Failure(_failure(err), SEND_RETRY if retry else None, err.retry_after)

    def done(self, session: Session, message: Message, outgoing: Outgoing, sent: Sent) -> None:
        """Sent, with Meta's message id."""
        message.channel_message_id = message.channel_message_id or sent.message_id
        if message.delivery == "sending":  # its echo may have come first
            message.delivery = "sent"

    def failed(
        self,
        session: Session,
        message: Message,
        outgoing: Outgoing,
        failure: Failure,
        again: datetime | None,
    ) -> None:
        """Back to `pending` until `again`, or failed with the reason."""
        if message.delivery != "sending":  # its echo came meanwhile
            return
        if again is not None:
            message.delivery, message.send_after = "pending", again
        else:
            message.delivery, message.delivery_error = "failed", failure.error

    def interrupted(self, session: Session, message: Message) -> None:
        """A worker died mid-send: the message may have gone out, so it is not sent again."""
        message.delivery, message.delivery_error = "failed", UNCONFIRMED


def _failure(err: GraphError) -> str:
    return UNCONFIRMED if err.delivered_unknown else f"{err.reason}: {err}"[:500]


def _prepare(session: Session, message: Message, now: datetime) -> Outgoing | None:
    """What sending `message` needs, or None when it is settled here (skipped or failed)."""
    conversation = session.get(Conversation, message.conversation_id)
    page = find_page(session, conversation.account or "") if conversation else None
    psid = _psid(conversation) if conversation else None
    if conversation is None or page is None or psid is None:
        message.delivery, message.delivery_error = "failed", "invalid: the Page is not connected"
        return None
    try:
        terms = _terms(message, conversation.last_visitor_message_at, now)
    except WindowClosed as err:  # a reply that waited (throttled) past the 7 days
        message.delivery, message.delivery_error = "failed", f"window_closed: {err.message}"
        return None
    if terms is None:
        message.delivery = "skipped"
        message.delivery_error = bot_skip_reason(conversation.last_visitor_message_at, now)
        return None
    quick_replies = _quick_replies(message.attachments)
    return Outgoing(
        message.id,
        message.send_attempts + 1,
        page.page_id,
        page.access_token,
        psid,
        message.text,
        quick_replies,
        terms,
    )


def _terms(message: Message, last_visitor_at: datetime | None, now: datetime) -> Terms | None:
    """The terms as of now, judged as the API judged the reply (with the tag it accepted): a
    reply that waited for a retry may have crossed 24 hours, or 7 days."""
    if message.sender == "bot":
        return bot_terms(last_visitor_at, now)
    tag = message.message_tag
    return agent_terms(last_visitor_at, now, (tag,) if tag else (), tag)


def _psid(conversation: Conversation) -> str | None:
    for identity in conversation.contact.identities:
        if identity.channel == "messenger" and identity.account == conversation.account:
            return identity.external_id
    return None


def _quick_replies(attachments: list[dict[str, Any]]) -> list[QuickReply]:
    """A flow's buttons (its payloads) and an ask's choices (typed answers) as quick replies."""
    replies = []
    for attachment in attachments:
        for button in attachment.get("buttons") or []:
            replies.append(_quick_reply(str(button["label"]), str(button["payload"])))
        for choice in attachment.get("choices") or []:
            replies.append(_quick_reply(str(choice), f"{TEXT_PAYLOAD}{choice}"))
    return replies[:QUICK_REPLIES_MAX]


def _quick_reply(title: str, payload: str) -> QuickReply:
    return QuickReply(title[:QUICK_REPLY_TITLE_MAX], payload)
