"""Messenger webhooks: the verify handshake, the signature check, and one item per event.

Meta signs the raw body it sends (HMAC-SHA256 with the app secret, header
`X-Hub-Signature-256: sha256=<hex>`), in an escaped form that re-serialised JSON would not
reproduce, so the check runs on the bytes as received, before anything is parsed. A body
holds entries per Page, each with `messaging` items (or `standby` ones while another app
controls the thread); every item becomes one `Item`, keyed by the visitor it concerns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"


class BadWebhook(ValueError):
    """A signed body that is not the JSON Meta sends; nothing of it is kept."""


def signature_matches(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is `sha256=` and the HMAC of `body` under `app_secret` (constant time)."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest().encode()
    given = header.removeprefix("sha256=").lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected, given)  # bytes: any header, even a non-ASCII one


def handshake(args: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to answer Meta's subscription check with, or None when it is not ours."""
    if not verify_token or args.get("hub.mode") != "subscribe":
        return None
    given = args.get("hub.verify_token", "").encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(given, verify_token.encode()):
        return None
    return args.get("hub.challenge")


@dataclass(frozen=True, slots=True)
class Item:
    """One webhook event about one visitor (a PSID) of one Page."""

    page_id: str
    psid: str
    timestamp_ms: int
    kind: str  # message, echo, postback, delivery, read, or the unknown keys Meta sent
    data: dict[str, Any]  # the item as Meta sent it
    standby: bool = False  # another app controls the thread: stored, not answered

    def to_json(self) -> str:
        """The item as JSON, for the inbound stream."""
        fields = {
            "page_id": self.page_id,
            "psid": self.psid,
            "timestamp_ms": self.timestamp_ms,
            "kind": self.kind,
            "data": self.data,
            "standby": self.standby,
        }
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Item:
        """An item back from the inbound stream."""
        return cls(**json.loads(text))


def items(body: bytes) -> list[Item]:
    """Every item of every entry of a webhook body, oldest first; BadWebhook if malformed."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadWebhook(f"the body is not JSON: {err}") from err
    if not isinstance(document, dict) or document.get("object") != "page":
        raise BadWebhook('the body is not a Page webhook ({"object": "page", ...})')
    found = list(_entries(document.get("entry")))
    found.sort(key=lambda item: item.timestamp_ms)  # Meta does not promise arrival order
    return found


def _entries(entries: object) -> Iterator[Item]:
    if not isinstance(entries, list):
        raise BadWebhook("`entry` must be a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise BadWebhook("each entry must be an object")
        page_id = str(entry.get("id", ""))
        for field, standby in (("messaging", False), ("standby", True)):
            for raw in entry.get(field) or []:
                yield _item(page_id, raw, standby)


def _item(page_id: str, raw: object, standby: bool) -> Item:
    if not isinstance(raw, dict):
        raise BadWebhook("each messaging item must be an object")
    kind = _kind(raw)
    # An echo goes from the Page to the visitor; every other item comes from the visitor.
    visitor = raw.get("recipient" if kind == "echo" else "sender")
    if not isinstance(visitor, dict) or not visitor.get("id"):
        raise BadWebhook(f"a {kind} item without the visitor's id")
    timestamp = raw.get("timestamp", 0)
    if not isinstance(timestamp, int):
        raise BadWebhook("`timestamp` must be whole milliseconds")
    return Item(page_id, str(visitor["id"]), timestamp, kind, raw, standby)


def _kind(raw: dict[str, Any]) -> str:
    message = raw.get("message")
    if isinstance(message, dict):
        return "echo" if message.get("is_echo") else "message"
    for kind in ("postback", "delivery", "read"):
        if kind in raw:
            return kind
    known = set(raw) - {"sender", "recipient", "timestamp"}
    return ",".join(sorted(known)) or "empty"
