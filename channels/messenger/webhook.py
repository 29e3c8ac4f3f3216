"""Messenger webhooks: the verify handshake, the signature check, and one item per event.

Meta signs the raw body it sends (HMAC-SHA256 with the app secret, header
`X-Hub-Signature-256: sha256=<hex>`), in an escaped form that re-serialised JSON would not
reproduce, so the check runs on the bytes as received, before anything is parsed. A body
holds entries per Page, each with `messaging` items (or `standby` ones while another app
controls the thread); every item becomes one `Item`, keyed by the visitor it concerns. An
entry or item that cannot be read is set aside with the reason, and the call's other items
are kept: Meta retries a whole call that is not answered 200, bad item included, forever.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.errors import ChannelError

SIGNATURE_HEADER = "X-Hub-Signature-256"
EXCERPT = 2_000  # characters of an unreadable item kept with the reason


class BadWebhook(ChannelError, ValueError):
    """A signed body that is not the JSON Meta sends (or one item of it); a ValueError too,
    as reading stored items takes it among the other malformed-data errors."""


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


@dataclass(frozen=True, slots=True)
class Batch:
    """What one webhook call brought: its good items, oldest first, and the ones that could
    not be read, each with the reason (kept aside, never dropped silently)."""

    found: list[Item]
    unreadable: list[tuple[str, str]]  # (the item as sent, at most 2,000 characters; why)


def items(body: bytes) -> Batch:
    """Every item of every entry of a webhook body, oldest first. A body that is not a Page
    webhook at all is refused (BadWebhook); a malformed entry or item is set aside in the
    batch, so the good items of the same call are kept."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadWebhook(f"the body is not JSON: {err}") from err
    if not isinstance(document, dict) or document.get("object") != "page":
        raise BadWebhook('the body is not a Page webhook ({"object": "page", ...})')
    entries = document.get("entry")
    if not isinstance(entries, list):
        raise BadWebhook("`entry` must be a list")
    batch = Batch([], [])
    for entry in entries:
        _entry(entry, batch)
    batch.found.sort(key=lambda item: item.timestamp_ms)  # Meta does not promise arrival order
    return batch


def _entry(entry: object, batch: Batch) -> None:
    if not isinstance(entry, dict):
        batch.unreadable.append((_excerpt(entry), "an entry must be an object"))
        return
    page_id = str(entry.get("id", ""))
    for field, standby in (("messaging", False), ("standby", True)):
        raws = entry.get(field) or []
        if not isinstance(raws, list):
            batch.unreadable.append((_excerpt(raws), f"`{field}` must be a list"))
            continue
        for raw in raws:
            try:
                batch.found.append(_item(page_id, raw, standby))
            except BadWebhook as err:
                batch.unreadable.append((_excerpt(raw), str(err)))


def _excerpt(raw: object) -> str:
    return json.dumps(raw, ensure_ascii=False)[:EXCERPT]


def _item(page_id: str, raw: object, standby: bool) -> Item:
    if not isinstance(raw, dict):
        raise BadWebhook("each messaging item must be an object")
    kind = _kind(raw)
    # An echo goes from the Page to the visitor; every other item comes from the visitor.
    visitor = raw.get("recipient" if kind == "echo" else "sender")
    if not isinstance(visitor, dict) or not visitor.get("id"):
        raise BadWebhook(f"a {kind} item without the visitor's id")
    timestamp = raw.get("timestamp", 0)
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
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
