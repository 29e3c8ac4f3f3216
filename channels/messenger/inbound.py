"""Messenger webhook items into the chat data, and news for the engine.

The webhook endpoint only checks the signature and queues each item on its visitor's shard
of a Redis stream, so Meta gets its answer at once and a restart loses nothing; workers then
take the items here, oldest first, each in one transaction:

- a visitor's message or postback is stored once per Messenger message id (Meta retries
  deliveries), in the visitor's ongoing conversation on that Page, started if need be; a
  new sender becomes a contact named from their Graph API profile when it can be read; a
  text over Messenger's own 2,000 characters is cut there, with a `cut` attachment giving
  the length that came;
- an echo of Parley's own send (its metadata) confirms the stored message; any other echo is
  a reply an agent sent outside Parley (Page inbox, Business Suite) and is stored as an
  off-platform agent message;
- deliveries and reads move Parley's sent messages on to `delivered` and `read`;
- `standby` items (another app controls the thread) are stored but not told to flows.

What is news for flows is told to the engine in the item's own transaction (`chat.news`,
through the event outbox), so a crash after the commit loses none of it, and an item
delivered again (by Meta, or by the stream after a worker died) tells nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from channels.messenger.graph import GraphError
from channels.messenger.people import find_contact, find_message, find_page, page_contact
from channels.messenger.webhook import Item
from chat.conversations import open_conversation, record_message
from chat.inbox_actions import REPLY_MAX
from chat.models import Conversation, Message, MessengerPage
from chat.news import tell
from chat.outbox import EventOutbox
from engine.client import Client
from engine.events import EventType
from engine.keys import Keys
from engine.streams import ShardedQueue

GROUP = "parley-messenger"
STREAM = "messenger-inbound"
METADATA_PREFIX = "parley:"  # Parley's sends carry `parley:<message id>` as metadata
TEXT_PAYLOAD = "text:"  # a quick reply standing for a typed answer (an ask's choice)
log = logging.getLogger(__name__)

Profile = Callable[[str, str], dict[str, str]]  # (psid, page token) -> the Graph profile


def inbound_queue(client: Client, keys: Keys, replicas: int = 0) -> ShardedQueue:
    """The sharded stream webhook items wait in (held by `replicas` replicas before a
    webhook call is answered)."""
    return ShardedQueue(
        client,
        lambda shard: keys.channel_stream(shard, STREAM),
        lambda shard: keys.channel_stream(shard, STREAM + ":dead-letters"),
        GROUP,
        replicas=replicas,
    )


class MessengerInbox:
    """Takes queued webhook items and applies them to the chat data."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: Client,
        keys: Keys,
        *,
        app_id: str,
        profile: Profile,
        news: EventOutbox,
        replicas: int = 0,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.queue = inbound_queue(client, keys, replicas)
        self.queue.ensure_group(range(keys.shards))
        self.app_id = app_id
        self.profile = profile
        self.news = news

    def accept(self, found: list[Item]) -> None:
        """Queue webhook items for the workers (the webhook endpoint's only work)."""
        self.queue.add((self.keys.shard(item.psid), {"item": item.to_json()}) for item in found)

    def set_aside(self, unreadable: list[tuple[str, str]]) -> None:
        """Keep the webhook items that could not be read, with the reason, for an operator
        (the inbound stream's dead letters, shard 0)."""
        for raw, reason in unreadable:
            self.queue.set_aside(0, {b"item": raw.encode()}, f"unreadable item: {reason}")

    def run_once(self, consumer: str, shards: Iterable[int], count: int = 100) -> int:
        """Apply the waiting items of `shards` (those the consumer's worker leases), oldest
        first; returns how many were taken."""
        entries = self.queue.take(consumer, count, shards)
        readable = []
        for shard, entry_id, fields in entries:
            try:
                readable.append((Item.from_json(fields[b"item"]), shard, entry_id))
            except (ValueError, KeyError, TypeError) as err:
                self.queue.set_aside(shard, fields, f"unreadable item: {err}")
                self.queue.ack([(shard, entry_id)])
        readable.sort(key=lambda taken: taken[0].timestamp_ms)
        for item, shard, entry_id in readable:
            try:
                self._apply_racing(item)
            except IntegrityError as err:
                # still racing: left pending, to be taken again first next round
                log.info("Messenger item met a concurrent write, retried later: %s", err.orig)
                return len(entries)
            except (KeyError, TypeError, AttributeError, ValueError) as err:
                fields = {b"item": item.to_json().encode()}
                self.queue.set_aside(shard, fields, f"{type(err).__name__}: {err}")
            self.queue.ack([(shard, entry_id)])
        return len(entries)

    def _apply_racing(self, item: Item) -> None:
        """Apply an item; when another worker stored the same visitor's contact, conversation
        or message at the same moment, once more: it has committed, so this finds its rows."""
        try:
            self.apply(item)
        except IntegrityError:
            self.apply(item)

    def apply(self, item: Item) -> None:
        """Store what one item says and tell the engine what is news for flows."""
        handler = _HANDLERS.get(item.kind)
        if handler is None:
            log.info("Messenger %s item skipped: Parley does not handle it", item.kind)
            return
        name = self._name_if_new(item)
        with self.news.transaction() as session:
            page = find_page(session, item.page_id)
            if page is None:
                log.warning("Messenger item for Page %s, which is not connected", item.page_id)
                return
            handler(_Context(session, page, item, name, self.app_id))

    def _name_if_new(self, item: Item) -> str | None:
        # Read before the transaction: no network wait while the database is held.
        if item.kind in ("delivery", "read"):
            return None
        with self.sessions() as session:
            page = find_page(session, item.page_id)
            if page is None or find_contact(session, page.page_id, item.psid) is not None:
                return None
            token = page.access_token
        try:
            return self.profile(item.psid, token).get("name") or None
        except GraphError as err:  # the message matters more than the name: go on without
            log.warning("profile of a new Messenger visitor not read: %s", err)
            return None


class _Context:
    """One item being applied: the transaction, its Page, and what it needs."""

    def __init__(
        self, session: Session, page: MessengerPage, item: Item, name: str | None, app_id: str
    ) -> None:
        self.session = session
        self.page = page
        self.item = item
        self.name = name
        self.app_id = app_id
        self.at = datetime.fromtimestamp(item.timestamp_ms / 1000, UTC)

    def store(
        self, mid: str, text: str, attachments: list[dict[str, Any]], *, from_page: bool = False
    ) -> tuple[Conversation, str] | None:
        """Record a message once per Messenger id in the visitor's ongoing conversation (started
        if need be); the conversation and the text as stored, or None when the message was
        stored before (Meta delivered it again): its news was told with it."""
        if find_message(self.session, mid) is not None:
            return None
        if len(text) > REPLY_MAX:  # longer than Messenger itself allows: forged, or a bug
            log.warning("Messenger message %s: %d characters cut to %d", mid, len(text), REPLY_MAX)
            attachments = [*attachments, {"type": "cut", "length": len(text)}]
            text = text[:REPLY_MAX]
        contact, _ = page_contact(self.session, self.page, self.item.psid, self.name, self.at)
        conversation, started = open_conversation(
            self.session, contact, "messenger", self.at, account=self.page.page_id
        )
        record_message(
            self.session,
            conversation,
            sender="agent" if from_page else "visitor",
            text=text,
            at=self.at,
            off_platform=from_page,  # the Page's own messages here are not Parley's sends
            channel_message_id=mid,
            attachments=attachments,
        )
        if started:
            self.tell(conversation, "conversation.started", f"messenger-start:{conversation.id}")
        return conversation, text

    def tell(
        self, conversation: Conversation, kind: EventType, event_id: str = "", **fields: Any
    ) -> None:
        """Tell the engine about this item, with an id Meta's retries cannot repeat; not
        while another app controls the thread (`standby`)."""
        if not self.item.standby:
            event_id = event_id or f"messenger:{self.mid}"
            tell(self.session, conversation, kind, self.at, event_id, **fields)

    @property
    def mid(self) -> str:
        """The Messenger id of the item's message (or postback)."""
        raw = self.item.data.get("message") or self.item.data.get("postback") or {}
        return str(raw.get("mid") or f"{self.item.kind}:{self.item.psid}:{self.item.timestamp_ms}")


def _visitor_message(context: _Context) -> None:
    message = context.item.data["message"]
    attachments = [_attachment(raw) for raw in message.get("attachments") or []]
    stored = context.store(context.mid, str(message.get("text") or ""), attachments)
    if stored is None:
        return
    conversation, text = stored
    payload = (message.get("quick_reply") or {}).get("payload")
    if isinstance(payload, str) and not payload.startswith(TEXT_PAYLOAD):
        context.tell(conversation, "button.clicked", payload=payload)
        return
    if isinstance(payload, str):
        text = payload.removeprefix(TEXT_PAYLOAD)
    context.tell(conversation, "message.received", text=text)


def _postback(context: _Context) -> None:
    postback = context.item.data["postback"]
    payload = str(postback.get("payload") or "")
    title = str(postback.get("title") or "")
    attachments = [{"type": "postback", "payload": payload}]
    stored = context.store(context.mid, title, attachments)
    if stored is not None:
        context.tell(stored[0], "button.clicked", payload=payload)


def _echo(context: _Context) -> None:
    message = context.item.data["message"]
    metadata = str(message.get("metadata") or "")
    if metadata.startswith(METADATA_PREFIX):
        _confirm_sent(context, metadata.removeprefix(METADATA_PREFIX), context.mid)
        return
    if _ours(context, message):
        return  # Parley's own send, recorded by the sender
    attachments = [_attachment(raw) for raw in message.get("attachments") or []]
    text = str(message.get("text") or "")
    stored = context.store(context.mid, text, attachments, from_page=True)
    if stored is not None:
        conversation, text = stored
        context.tell(conversation, "message.sent", sender="agent", off_platform=True, text=text)


def _ours(context: _Context, message: dict[str, Any]) -> bool:
    return bool(context.app_id) and str(message.get("app_id") or "") == context.app_id


def _confirm_sent(context: _Context, message_id: str, mid: str) -> None:
    stored = context.session.get(Message, int(message_id)) if message_id.isdigit() else None
    if stored is None:
        log.warning("echo of a Parley send %s that is not stored", message_id)
        return
    stored.channel_message_id = stored.channel_message_id or mid
    if stored.delivery in ("pending", "sending", "failed"):
        # a send whose answer was lost (timeout, crash) did reach the visitor after all
        stored.delivery, stored.delivery_error = "sent", None


def _delivery(context: _Context) -> None:
    delivery = context.item.data["delivery"]
    mids = [str(mid) for mid in delivery.get("mids") or []]
    _advance(context, "delivered", ("sent",), delivery.get("watermark"), mids)


def _read(context: _Context) -> None:
    watermark = context.item.data["read"].get("watermark")
    _advance(context, "read", ("sent", "delivered"), watermark, [])


def _advance(
    context: _Context, to: str, after: tuple[str, ...], watermark: object, mids: list[str]
) -> None:
    """Move the visitor's sent messages up to the watermark (or named) on to `to`."""
    contact = find_contact(context.session, context.page.page_id, context.item.psid)
    if contact is None:
        return
    reached: ColumnElement[bool] = Message.channel_message_id.in_(mids)
    if isinstance(watermark, int):
        reached = reached | (Message.created_at <= datetime.fromtimestamp(watermark / 1000, UTC))
    conversations = select(Conversation.id).where(
        Conversation.contact_id == contact.id, Conversation.account == context.page.page_id
    )
    context.session.execute(
        update(Message)
        .where(Message.conversation_id.in_(conversations), Message.delivery.in_(after), reached)
        .values(delivery=to)
    )


def _attachment(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {"type": "unknown"}
    payload = raw.get("payload")
    if not isinstance(payload, dict):
        payload = {}
    kept = {key: payload[key] for key in ("url", "sticker_id", "title") if key in payload}
    return {"type": str(raw.get("type") or "unknown"), **kept}


_HANDLERS: dict[str, Callable[[_Context], None]] = {
    "message": _visitor_message,
    "postback": _postback,
    "echo": _echo,
    "delivery": _delivery,
    "read": _read,
}
