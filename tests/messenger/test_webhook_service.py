"""The webhook end to end: Meta's signed POSTs in, contacts, conversations and messages out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chat.models import Contact, Conversation, Message
from tests.messenger.shop import Shop

HOUR = 3600.0


def messages(shop: Shop) -> list[Message]:
    with shop.services.sessions() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def conversation(shop: Shop) -> Conversation:
    with shop.services.sessions() as session:
        found = session.scalars(select(Conversation)).one()
        session.expunge(found)
        return found


def contacts(shop: Shop) -> list[Contact]:
    with shop.services.sessions() as session:
        return list(session.scalars(select(Contact)))


def test_the_handshake_answers_metas_challenge(shop: Shop) -> None:
    right = shop.client.get(
        "/webhooks/messenger", query_string=shop.graph.hub_query(challenge="4711")
    )
    assert (right.status_code, right.text) == (200, "4711")
    wrong = shop.client.get(
        "/webhooks/messenger", query_string=shop.graph.hub_query(verify_token="x")
    )
    assert wrong.status_code == 403
    assert wrong.get_json()["error"]["field"] == "hub.verify_token"


def test_a_forged_signature_is_refused_and_changes_nothing(shop: Shop) -> None:
    shop.graph.visitor_message(shop.page.id, text="hello")
    (request,) = shop.graph.take_webhooks()
    forged = {**request.headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    unsigned = {k: v for k, v in request.headers.items() if k != "X-Hub-Signature-256"}
    assert shop.post_webhook(request.body, forged) == 403
    assert shop.post_webhook(request.body, unsigned) == 403
    assert shop.post_webhook(request.body + b" ", request.headers) == 403
    shop.services.settle()
    assert contacts(shop) == []
    assert messages(shop) == []


def test_a_new_sender_becomes_a_named_contact_with_a_conversation(shop: Shop) -> None:
    sent = shop.graph.visitor_message(shop.page.id, text="Do you ship to Lisbon?")
    shop.deliver()
    (contact,) = contacts(shop)
    assert contact.name == shop.graph.people[sent.sender].name
    (message,) = messages(shop)
    assert (message.sender, message.text, message.channel_message_id) == (
        "visitor",
        "Do you ship to Lisbon?",
        sent.mid,
    )
    found = conversation(shop)
    assert (found.channel, found.account, found.visitor_message_count) == (
        "messenger",
        shop.page.id,
        1,
    )


def test_a_profile_that_cannot_be_read_does_not_hold_the_message_up(shop: Shop) -> None:
    shop.graph.fail_next("profile", code=2)
    shop.graph.visitor_message(shop.page.id, text="hello")
    shop.deliver()
    (contact,) = contacts(shop)
    assert contact.name is None
    assert [m.text for m in messages(shop)] == ["hello"]


def test_a_delivery_meta_retries_is_stored_once(shop: Shop) -> None:
    shop.graph.visitor_message(shop.page.id, text="hello")
    shop.deliver(times=3)
    assert [m.text for m in messages(shop)] == ["hello"]
    assert conversation(shop).message_count == 1


def test_items_are_applied_in_the_order_they_happened(shop: Shop) -> None:
    first = shop.graph.visitor_message(shop.page.id, text="first")
    shop.graph.advance(5)
    shop.graph.visitor_message(shop.page.id, first.sender, text="second")
    shop.deliver(order="reversed")
    assert [m.text for m in messages(shop)] == ["first", "second"]


def test_attachments_postbacks_and_unknown_kinds(shop: Shop) -> None:
    first = shop.graph.visitor_message(shop.page.id, text=None, attachments=("image", "sticker"))
    shop.graph.postback(shop.page.id, first.sender, "Track my order", "TRACK")
    shop.deliver()
    reaction = {
        "sender": {"id": first.sender},
        "recipient": {"id": shop.page.id},
        "timestamp": shop.graph.millis(),
        "reaction": {"emoji": "+1"},
    }
    request = shop.graph.signed_request(shop.page.id, [reaction])
    assert shop.post_webhook(request.body, request.headers) == 200
    shop.services.settle()
    stored = messages(shop)
    assert [a["type"] for a in stored[0].attachments] == ["image", "sticker"]
    assert (stored[1].text, stored[1].attachments) == (
        "Track my order",
        [{"type": "postback", "payload": "TRACK"}],
    )
    assert len(stored) == 2


def test_a_reply_from_the_page_inbox_is_an_off_platform_agent_message(shop: Shop) -> None:
    first = shop.graph.visitor_message(shop.page.id, text="hello")
    shop.deliver()
    shop.advance(120)
    shop.graph.page_reply(shop.page.id, first.sender, "Hi from the inbox")
    shop.graph.advance(60)
    shop.graph.page_reply(shop.page.id, first.sender, "No app id at all", app_id=None)
    shop.deliver()
    replies = [m for m in messages(shop) if m.sender == "agent"]
    assert [(m.text, m.off_platform, m.delivery) for m in replies] == [
        ("Hi from the inbox", True, None),
        ("No app id at all", True, None),
    ]
    found = conversation(shop)
    assert (found.agent_message_count, found.first_response_seconds) == (2, 120)
    assert found.waiting_since is None
    assert shop.graph.sent == []  # nothing goes back out


def test_deliveries_and_reads_move_sent_messages_on(shop: Shop) -> None:
    first = shop.graph.visitor_message(shop.page.id, text="hello")
    shop.deliver()
    reply: Any = shop.api(
        "POST", f"/conversations/{conversation(shop).id}/messages", {"text": "Hi!"}, status=201
    )
    shop.services.settle()
    shop.deliver()  # the echo
    shop.graph.delivery(shop.page.id, first.sender, [shop.graph.sent[0].message_id])
    shop.deliver()
    assert [m.delivery for m in messages(shop) if m.id == reply["id"]] == ["delivered"]
    shop.graph.advance(1)
    shop.graph.read(shop.page.id, first.sender)
    shop.deliver()
    assert [m.delivery for m in messages(shop) if m.id == reply["id"]] == ["read"]


def test_an_item_that_loses_a_race_with_another_worker_is_applied_again(shop: Shop) -> None:
    inbox = shop.services.messenger_inbox
    real_apply = inbox.apply
    raced: list[str] = []

    def racing_apply(item: Any) -> None:
        if not raced:  # the first time, another worker wins the insert
            raced.append(item.kind)
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        real_apply(item)

    inbox.apply = racing_apply  # type: ignore[method-assign]
    shop.graph.visitor_message(shop.page.id, text="hello")
    shop.deliver()
    assert raced == ["message"]
    assert [m.text for m in messages(shop)] == ["hello"]
    queue = inbox.queue
    pending = sum(
        queue.redis.xpending(queue.key(shard), queue.group)["pending"]
        for shard in range(inbox.keys.shards)
    )
    assert pending == 0  # acknowledged: nothing left for another worker to claim


def test_a_malformed_item_is_set_aside_and_its_good_neighbours_are_kept(shop: Shop) -> None:
    person = {"sender": {"id": "U1"}, "recipient": {"id": shop.page.id}}
    good = {**person, "timestamp": shop.graph.millis(), "message": {"mid": "m1", "text": "hi"}}
    bad = {**person, "timestamp": "yesterday", "message": {"mid": "m2", "text": "lost?"}}
    request = shop.graph.signed_request(shop.page.id, [good, bad])
    answer = shop.client.post("/webhooks/messenger", data=request.body, headers=request.headers)
    assert answer.status_code == 200  # so Meta does not send the whole call again, forever
    assert answer.get_json() == {"received": 1, "set_aside": 1}
    shop.services.settle()
    assert [m.text for m in messages(shop)] == ["hi"]
    inbox = shop.services.messenger_inbox
    dead: Any = shop.services.redis.xrange(inbox.queue.dead_letters(0))
    (record,) = [fields[b"entry"].decode() for _, fields in dead]
    assert "`timestamp` must be whole milliseconds" in record
    assert "lost?" in record  # kept as sent, for an operator


def test_a_text_longer_than_messenger_allows_is_cut_and_the_cut_recorded(shop: Shop) -> None:
    shop.graph.visitor_message(shop.page.id, text="x" * 5_000)
    shop.deliver()
    (message,) = messages(shop)
    assert len(message.text or "") == 2_000
    assert {"type": "cut", "length": 5_000} in message.attachments
