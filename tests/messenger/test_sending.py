"""Replies and flow messages out through the Send API, inside Messenger's reply window."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chat.jobs import JITTER
from chat.models import Conversation, Message
from tests.messenger.shop import Shop

HOUR = 3600.0
DAY = 24 * HOUR
UPDATE_TAGS = ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE")


def visitor_wrote(shop: Shop, text: str = "Is my order on its way?", ago: float = 0.0) -> int:
    """The visitor wrote `ago` seconds before now; the conversation's id."""
    shop.graph.visitor_message(shop.page.id, text=text)
    shop.deliver()
    shop.advance(ago)
    with shop.services.sessions() as session:
        return session.scalars(select(Conversation.id)).one()


def reply(shop: Shop, conversation_id: int, status: int = 201, **body: Any) -> Any:
    return shop.api(
        "POST", f"/conversations/{conversation_id}/messages", {"text": "On its way", **body}, status
    )


def stored(shop: Shop, message_id: int) -> Message:
    with shop.services.sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("ago", "messaging_type", "tag"),
    [(1 * HOUR, "RESPONSE", None), (3 * DAY, "MESSAGE_TAG", "HUMAN_AGENT")],
)
def test_an_agent_replies_within_seven_days(
    shop: Shop, ago: float, messaging_type: str, tag: str | None
) -> None:
    conversation_id = visitor_wrote(shop, ago=ago)
    answer = reply(shop, conversation_id)
    assert answer["delivery"] == "pending"
    shop.services.settle()
    (sent,) = shop.graph.sent
    assert (sent.text, sent.messaging_type, sent.tag) == ("On its way", messaging_type, tag)
    assert sent.metadata == f"parley:{answer['id']}"
    message = stored(shop, answer["id"])
    assert (message.delivery, message.channel_message_id) == ("sent", sent.message_id)


def test_the_echo_of_parleys_own_reply_is_not_an_off_platform_reply(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=HOUR)
    reply(shop, conversation_id)
    shop.services.settle()
    shop.deliver()  # the echo comes back, with Parley's app id and metadata
    with shop.services.sessions() as session:
        agent = session.scalars(select(Message).where(Message.sender == "agent")).all()
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        assert [(m.off_platform, m.delivery) for m in agent] == [(False, "sent")]
        assert conversation.agent_message_count == 1


def test_past_seven_days_without_allowed_tags_the_reply_is_refused(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=8 * DAY)
    error = reply(shop, conversation_id, status=409, tag="ACCOUNT_UPDATE")["error"]
    assert (error["code"], error["field"]) == ("window_closed", "tag")
    assert "window closed" in error["message"]
    assert "8 days ago" in error["message"]
    shop.services.settle()
    assert shop.graph.sent == []
    messages = shop.api("GET", f"/conversations/{conversation_id}/messages")["messages"]
    assert [m["sender"] for m in messages] == ["visitor"]


@pytest.mark.parametrize("allowed_tags", [UPDATE_TAGS])
def test_past_seven_days_an_allowed_tag_must_be_picked(shop: Shop) -> None:
    shop.graph.retired_tags.clear()  # a platform that still takes the update tags
    conversation_id = visitor_wrote(shop, ago=8 * DAY)
    error = reply(shop, conversation_id, status=409)["error"]
    assert "pick a message tag, one of CONFIRMED_EVENT_UPDATE" in error["message"]
    reply(shop, conversation_id, tag="ACCOUNT_UPDATE")
    shop.services.settle()
    (sent,) = shop.graph.sent
    assert (sent.messaging_type, sent.tag) == ("MESSAGE_TAG", "ACCOUNT_UPDATE")


@pytest.mark.parametrize("allowed_tags", [("HUMAN_AGENT",)])
def test_what_the_api_accepts_the_sender_sends_even_with_human_agent_listed(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=6 * DAY)
    reply(shop, conversation_id, tag="HUMAN_AGENT")  # inside the 7 days: accepted, and sent
    shop.services.settle()
    (sent,) = shop.graph.sent
    assert (sent.messaging_type, sent.tag) == ("MESSAGE_TAG", "HUMAN_AGENT")
    shop.advance(2 * DAY)
    error = reply(shop, conversation_id, status=409, tag="HUMAN_AGENT")["error"]
    assert error["code"] == "window_closed"  # refused here, not accepted and failed later
    assert "HUMAN_AGENT only within 7 days" in error["message"]


@pytest.mark.parametrize("allowed_tags", [UPDATE_TAGS])
def test_the_conversation_shows_its_reply_window(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=2 * DAY)
    window = shop.api("GET", f"/conversations/{conversation_id}")["reply_window"]
    assert window["open"] is False
    assert window["tag_required"] is False
    assert window["allowed_tags"] == list(UPDATE_TAGS)
    shop.advance(6 * DAY)
    assert shop.api("GET", f"/conversations/{conversation_id}")["reply_window"]["tag_required"]


def test_a_tag_on_a_widget_conversation_is_refused(shop: Shop) -> None:
    started = shop.client.post("/widget/conversations", json={}).get_json()
    headers = {"X-Visitor-Token": started["visitor_token"]}
    shop.client.post(
        f"/widget/conversations/{started['conversation_id']}/messages",
        json={"text": "hi"},
        headers=headers,
    )
    error = reply(shop, started["conversation_id"], status=409, tag="ACCOUNT_UPDATE")["error"]
    assert (error["code"], error["field"]) == ("invalid_tag", "tag")


def test_a_throttled_send_waits_as_meta_says_then_goes_out_once(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=HOUR)
    shop.graph.fail_next("messages", code=613, regain_minutes=2)
    answer = reply(shop, conversation_id)
    shop.services.settle()
    assert stored(shop, answer["id"]).delivery == "pending"
    shop.advance(119)
    shop.services.settle()
    assert shop.graph.sent == []  # still inside Meta's two minutes
    shop.advance(120 * JITTER + 1)  # at most a fifth more, so that throttled sends spread out
    shop.services.settle()
    assert len(shop.graph.sent) == 1
    assert stored(shop, answer["id"]).delivery == "sent"


def test_a_reply_retried_with_its_client_id_reaches_the_visitor_once(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=HOUR)
    first = reply(shop, conversation_id, client_id="reply-1")
    again = reply(shop, conversation_id, status=200, client_id="reply-1")
    assert again["id"] == first["id"]
    shop.services.settle()
    assert [sent.text for sent in shop.graph.sent] == ["On its way"]


def test_a_reply_written_after_a_throttled_one_waits_for_it(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=HOUR)
    shop.graph.fail_next("messages", code=613, regain_minutes=2)
    reply(shop, conversation_id, text="Let me check")
    shop.services.settle()  # throttled: back in the queue for two minutes
    reply(shop, conversation_id, text="It left our warehouse today")
    shop.services.settle()
    assert shop.graph.sent == []  # the second does not overtake the first
    shop.advance(120 * (1 + JITTER) + 1)  # Meta's two minutes, and the most jitter adds
    shop.services.settle()
    assert [sent.text for sent in shop.graph.sent] == [
        "Let me check",
        "It left our warehouse today",
    ]


@pytest.mark.parametrize(
    ("code", "subcode", "reason"),
    [
        (551, None, "person_unavailable"),
        (190, None, "token_expired"),
        (10, 2018278, "window_closed"),
    ],
)
def test_a_send_meta_refuses_is_marked_failed_with_the_reason(
    shop: Shop, code: int, subcode: int | None, reason: str
) -> None:
    conversation_id = visitor_wrote(shop, ago=HOUR)
    shop.graph.fail_next("messages", code=code, subcode=subcode)
    answer = reply(shop, conversation_id)
    shop.services.settle()
    shop.advance(DAY)
    shop.services.settle()
    message = shop.api("GET", f"/conversations/{conversation_id}/messages")["messages"][-1]
    assert (message["id"], message["delivery"]) == (answer["id"], "failed")
    assert message["delivery_error"].startswith(f"{reason}: ")
    assert shop.graph.sent == []


def test_a_send_that_timed_out_is_never_sent_again(shop: Shop) -> None:
    conversation_id = visitor_wrote(shop, ago=HOUR)
    # Meta carries the send out but answers later than Parley waits
    shop.graph.hold_seconds = 1.0
    messenger = replace(shop.services.settings.messenger, graph_timeout=0.2)
    shop.services.settings = replace(shop.services.settings, messenger=messenger)
    shop.graph.fail_next("messages", timeout=True)
    answer = reply(shop, conversation_id)
    shop.services.settle()
    message = stored(shop, answer["id"])
    assert message.delivery == "failed"
    assert message.delivery_error is not None
    assert message.delivery_error.startswith("unconfirmed")
    shop.deliver()  # Meta did carry it out: the echo arrives
    assert stored(shop, answer["id"]).delivery == "sent"
    shop.advance(DAY)
    shop.services.settle()
    assert len(shop.graph.sent) == 1


NUDGE = """
id: nudge
trigger:
  visitor_timeout:
    after: 6h
start: nudge
steps:
  nudge:
    say: "Still there?"
    end: true
"""

GREETER = """
id: greeter
trigger:
  conversation_started:
start: menu
steps:
  menu:
    say: "Hi! What can we do for you?"
    buttons:
      - {label: "Track my order", goto: track}
      - {label: "Talk to a person", goto: person}
  track:
    say: "Your order ships today."
    end: true
  person:
    say: "Someone will be right with you."
    end: true
"""


def load_flow(shop: Shop, source: str) -> None:
    (Path(shop.services.settings.flows_dir) / "flow.yaml").write_text(source)
    assert not shop.services.reload_flows().failed(strict=True)


def test_a_flow_message_30_hours_after_the_visitor_wrote_is_skipped(shop: Shop) -> None:
    load_flow(shop, NUDGE)
    conversation_id = visitor_wrote(shop, ago=DAY)
    reply(shop, conversation_id)  # a day later: sent with HUMAN_AGENT
    shop.services.settle()
    shop.advance(6 * HOUR)  # the visitor stays quiet: the flow nudges
    shop.services.settle()
    messages = shop.api("GET", f"/conversations/{conversation_id}/messages")["messages"]
    bot = messages[-1]
    assert (bot["sender"], bot["text"], bot["delivery"]) == ("bot", "Still there?", "skipped")
    assert bot["delivery_error"].startswith("window_closed: the visitor last wrote 30 h ago")
    assert [s.text for s in shop.graph.sent] == ["On its way"]


def test_a_flows_buttons_are_quick_replies_and_a_tap_is_a_click(shop: Shop) -> None:
    load_flow(shop, GREETER)
    first = shop.graph.visitor_message(shop.page.id, text="hello")
    shop.deliver()
    (menu,) = shop.graph.sent
    assert [q["title"] for q in menu.quick_replies] == ["Track my order", "Talk to a person"]
    shop.graph.visitor_message(
        shop.page.id,
        first.sender,
        text="Track my order",
        quick_reply=menu.quick_replies[0]["payload"],
    )
    shop.deliver()
    assert [s.text for s in shop.graph.sent][-1] == "Your order ships today."
