"""Webhooks the fake sends: scripted visitor events, echoes, signing and delivery.

Events queue up and go out only when the test calls `deliver_webhooks()`, one POST per event,
in the order the test picks (Meta promises none) and as often as it asks (Meta retries).
Bodies are serialised as Meta does, `\\uXXXX` for non-ASCII and `\\/` for `/`, so a receiver
that re-serialises instead of hashing the raw bytes gets a signature mismatch, as with Meta.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from tests.fakes.graph_state import GraphState, Message

PAGE_INBOX_APP_ID = "263902037430900"  # Meta's Page Inbox: replies typed there echo with it
STICKER_ID = 369239263222822  # Messenger's thumbs-up sticker
AttachmentKind = Literal["image", "audio", "video", "file", "sticker", "reel"]
Order = Literal["queued", "reversed", "shuffled"]
Poster = Callable[[bytes, Mapping[str, str]], int | None]


@dataclass(frozen=True)
class WebhookRequest:
    """A signed webhook POST: the raw body and its headers."""

    body: bytes
    headers: Mapping[str, str]

    @property
    def payload(self) -> Any:
        """The body parsed back, for assertions."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Delivery:
    """One POST of a webhook and the receiver's status (None: no answer in time)."""

    request: WebhookRequest
    status: int | None


def meta_json(payload: Any) -> bytes:
    """JSON as Meta writes it: compact, non-ASCII as \\uXXXX and every `/` as `\\/`."""
    # `/` can occur only inside strings in JSON text, so replacing it everywhere is safe
    return (
        json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()
    )


class GraphWebhooks(GraphState):
    """The state plus the app's webhook subscription: what happens is queued as events."""

    def __init__(
        self, app_id: str = "700000000000001", app_secret: str = "fake-app-secret"
    ) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.verify_token = "fake-verify-token"
        self.webhook_url: str | None = None
        self.webhook_timeout = 5.0  # Meta gives up on a receiver that takes longer
        self.queued: list[WebhookRequest] = []
        self.deliveries: list[Delivery] = []

    def signature(self, body: bytes) -> str:
        """`X-Hub-Signature-256` for a body: sha256= and the HMAC of the raw bytes."""
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    def signed_request(
        self, page_id: str, events: Sequence[dict[str, Any]], *, standby: bool = False
    ) -> WebhookRequest:
        """A signed POST carrying events for one Page, built but not queued or sent."""
        entry = {
            "id": page_id,
            "time": self.millis(),
            "standby" if standby else "messaging": list(events),
        }
        body = meta_json({"object": "page", "entry": [entry]})
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": self.signature(body)}
        return WebhookRequest(body, headers)

    def millis(self) -> int:
        """The clock in milliseconds, as webhooks stamp events."""
        return int(self.clock * 1000)

    def queue(
        self,
        page_id: str,
        sender: str,
        recipient: str,
        kind: str,
        content: dict[str, Any],
        *,
        standby: bool = False,
    ) -> dict[str, Any]:
        """Queue one event (`message`, `postback`, `delivery`, `read`) and return it."""
        event = {
            "sender": {"id": sender},
            "recipient": {"id": recipient},
            "timestamp": self.millis(),
            kind: content,
        }
        self.queued.append(self.signed_request(page_id, [event], standby=standby))
        return event

    def visitor_message(
        self,
        page_id: str,
        psid: str | None = None,
        text: str | None = "hi",
        *,
        attachments: Sequence[AttachmentKind] = (),
        quick_reply: str | None = None,
        reply_to: str | None = None,
        standby: bool = False,
    ) -> Message:
        """A person writes to the Page (a new person if psid is None or unknown): stored, queued."""
        person = self.people.get(psid or "") or self.add_person(page_id, psid)
        message = self.new_message(person.psid, page_id, text=text)
        message.attachments = [self.attachment(kind, message.mid) for kind in attachments]
        self.record(self.conversation_with(person), message)
        content: dict[str, Any] = {"mid": message.mid}
        content |= {"text": text} if text is not None else {}
        content |= {"attachments": message.attachments} if attachments else {}
        content |= {"quick_reply": {"payload": quick_reply}} if quick_reply else {}
        content |= {"reply_to": {"mid": reply_to}} if reply_to else {}
        self.queue(page_id, person.psid, page_id, "message", content, standby=standby)
        return message

    @staticmethod
    def attachment(kind: AttachmentKind, mid: str) -> dict[str, Any]:
        """An attachment as webhooks carry it: a type and a payload with a CDN url."""
        payload: dict[str, Any] = {"url": f"https://scontent.xx.fbcdn.net/v/{kind}/{mid}"}
        if kind == "sticker":
            payload["sticker_id"] = STICKER_ID
        return {"type": kind, "payload": payload}

    def postback(
        self, page_id: str, psid: str, title: str, payload: str, *, standby: bool = False
    ) -> str:
        """The person taps a button (a fresh mid, returned); it opens the reply window."""
        person = self.person(psid)
        person.last_inbound = self.clock
        mid = self.next_id("m_")
        content = {"title": title, "payload": payload, "mid": mid}
        self.queue(page_id, psid, page_id, "postback", content, standby=standby)
        return mid

    def delivery(
        self, page_id: str, psid: str, mids: Sequence[str] = (), *, standby: bool = False
    ) -> None:
        """The person's app confirms delivery of the Page's messages up to now."""
        content = {"mids": list(mids), "watermark": self.millis()}
        self.queue(page_id, psid, page_id, "delivery", content, standby=standby)

    def read(self, page_id: str, psid: str, *, standby: bool = False) -> None:
        """The person has read everything the Page sent up to now."""
        self.queue(page_id, psid, page_id, "read", {"watermark": self.millis()}, standby=standby)

    def page_reply(
        self,
        page_id: str,
        psid: str,
        text: str,
        *,
        app_id: str | None = PAGE_INBOX_APP_ID,
        standby: bool = False,
    ) -> Message:
        """Someone answers off-platform (the Page Inbox by default; app_id None: no app id)."""
        message = self.new_message(page_id, psid, text=text)
        self.record(self.conversation_with(self.person(psid)), message)
        self.echo(message, app_id, standby=standby)
        return message

    def echo(self, message: Message, app_id: str | None, *, standby: bool = False) -> None:
        """Queue the echo of a Page's message, carrying its metadata as Meta does."""
        content: dict[str, Any] = {"is_echo": True, "mid": message.mid}
        content |= {"app_id": int(app_id)} if app_id else {}
        content |= {"metadata": message.metadata} if message.metadata is not None else {}
        content |= {"text": message.text} if message.text is not None else {}
        if message.quick_replies:
            content["quick_replies"] = message.quick_replies
        page_id = message.sender
        self.queue(page_id, page_id, message.recipient, "message", content, standby=standby)

    def take_webhooks(self) -> list[WebhookRequest]:
        """The queued requests, removed from the queue: for a test that forges or alters one."""
        taken, self.queued = self.queued, []
        return taken

    def deliver_webhooks(
        self, *, order: Order = "queued", times: int = 1, seed: int = 0, post: Poster | None = None
    ) -> list[Delivery]:
        """POST every queued event `times` times; those not answered 200 stay queued (retries).

        `post(body, headers) -> status` replaces HTTP, e.g. for a Flask test client.
        """
        batch = self.take_webhooks()
        if order == "reversed":
            batch.reverse()
        elif order == "shuffled":
            random.Random(seed).shuffle(batch)
        send = post or self.post
        done = []
        for request in batch:
            attempts = [
                Delivery(request, send(request.body, request.headers)) for _ in range(times)
            ]
            if all(attempt.status != 200 for attempt in attempts):
                self.queued.append(request)
            done += attempts
        self.deliveries += done
        return done

    def post(self, body: bytes, headers: Mapping[str, str]) -> int | None:
        """POST to `webhook_url`; None when the receiver does not answer within the timeout."""
        if self.webhook_url is None:
            raise RuntimeError("set fake.webhook_url (or pass post=) before delivering webhooks")
        request = urllib.request.Request(self.webhook_url, body, dict(headers), method="POST")
        return self.exchange(request)[0]

    def verify_webhook(
        self, *, verify_token: str | None = None, challenge: str = "1158201444"
    ) -> tuple[int | None, str]:
        """Meta's subscription handshake: GET webhook_url with `hub.*`; the status and body."""
        query = self.hub_query(verify_token=verify_token, challenge=challenge)
        return self.exchange(urllib.request.Request(f"{self.webhook_url}?{urlencode(query)}"))

    def hub_query(
        self, *, verify_token: str | None = None, challenge: str = "1158201444"
    ) -> dict[str, str]:
        """The handshake's query parameters (the fake's verify token unless another is given)."""
        token = self.verify_token if verify_token is None else verify_token
        return {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge}

    def exchange(self, request: urllib.request.Request) -> tuple[int | None, str]:
        """The receiver's status and body; status None if it did not answer in time."""
        try:
            with urllib.request.urlopen(request, timeout=self.webhook_timeout) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            return None, ""
