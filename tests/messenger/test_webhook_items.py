"""Webhook bodies: the signature over the raw bytes, the handshake, one item per event."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from channels.messenger.webhook import BadWebhook, Item, handshake, items, signature_matches

SECRET = "app-secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_signature_is_checked_over_the_raw_bytes() -> None:
    # Meta escapes non-ASCII; the same JSON written differently is a different body
    raw = b'{"object":"page","entry":[],"text":"caf\\u00e9"}'
    assert signature_matches(SECRET, raw, sign(raw))
    assert not signature_matches(
        SECRET, '{"object":"page","entry":[],"text":"café"}'.encode(), sign(raw)
    )


@pytest.mark.parametrize(
    "header", [None, "", "sha1=abc", "sha256=", "sha256=" + "0" * 64, sign(b"x", "other")]
)
def test_a_missing_or_wrong_signature_does_not_match(header: str | None) -> None:
    assert not signature_matches(SECRET, b"x", header)


def test_without_an_app_secret_nothing_matches() -> None:
    assert not signature_matches("", b"x", sign(b"x", ""))


def test_the_handshake_answers_the_challenge_only_with_the_verify_token() -> None:
    args = {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}
    assert handshake(args, "vt") == "1158201444"
    assert handshake({**args, "hub.verify_token": "nope"}, "vt") is None
    assert handshake({**args, "hub.mode": "unsubscribe"}, "vt") is None
    assert handshake(args, "") is None


def body(*messaging: dict[str, object], standby: bool = False) -> bytes:
    field = "standby" if standby else "messaging"
    entry = {"id": "PAGE", "time": 1, field: list(messaging)}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def test_every_item_is_keyed_by_its_visitor_and_ordered_by_time() -> None:
    found = items(
        body(
            {
                "sender": {"id": "U1"},
                "recipient": {"id": "PAGE"},
                "timestamp": 30,
                "message": {"mid": "m2", "text": "later"},
            },
            {
                "sender": {"id": "PAGE"},
                "recipient": {"id": "U2"},
                "timestamp": 20,
                "message": {"mid": "m1", "is_echo": True, "text": "from the page"},
            },
            {
                "sender": {"id": "U1"},
                "recipient": {"id": "PAGE"},
                "timestamp": 10,
                "read": {"watermark": 5},
            },
        )
    ).found
    assert [(i.kind, i.psid, i.timestamp_ms) for i in found] == [
        ("read", "U1", 10),
        ("echo", "U2", 20),
        ("message", "U1", 30),
    ]
    assert Item.from_json(found[2].to_json()) == found[2]


def test_postbacks_deliveries_standby_and_unknown_kinds() -> None:
    person = {"sender": {"id": "U1"}, "recipient": {"id": "PAGE"}, "timestamp": 1}
    found = items(
        body(
            {**person, "postback": {"title": "Yes", "payload": "P"}},
            {**person, "delivery": {"mids": ["m"], "watermark": 1}},
            {**person, "reaction": {"emoji": "x"}},
        )
    ).found
    assert [i.kind for i in found] == ["postback", "delivery", "reaction"]
    standby = items(body({**person, "message": {"mid": "m", "text": "t"}}, standby=True))
    assert standby.found[0].standby


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"object": "instagram", "entry": []}',
        b'{"object": "page", "entry": {}}',
    ],
)
def test_a_body_that_is_no_page_webhook_is_refused_whole(raw: bytes) -> None:
    with pytest.raises(BadWebhook):
        items(raw)


def test_a_malformed_item_is_set_aside_and_the_others_of_the_call_are_kept() -> None:
    good = {"sender": {"id": "U1"}, "timestamp": 5, "message": {"mid": "m1", "text": "hi"}}
    no_sender = {"timestamp": 6, "message": {"mid": "m2", "text": "who?"}}
    bad_time = {"sender": {"id": "U2"}, "timestamp": "soon", "message": {"mid": "m3"}}
    batch = items(body(good, no_sender, bad_time, "not an object"))  # type: ignore[arg-type]
    assert [item.data["message"]["mid"] for item in batch.found] == ["m1"]
    assert [reason for _, reason in batch.unreadable] == [
        "a message item without the visitor's id",
        "`timestamp` must be whole milliseconds",
        "each messaging item must be an object",
    ]
    assert '"mid": "m2"' in batch.unreadable[0][0]  # kept as sent, for an operator to read
