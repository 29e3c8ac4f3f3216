"""The reply-window policy: what an agent and a flow may send, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat.reply_window import (
    Terms,
    WindowClosed,
    agent_terms,
    bot_skip_reason,
    bot_terms,
    window,
)

WROTE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
UPDATE_TAGS = ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE")


def later(**delta: float) -> datetime:
    return WROTE + timedelta(**delta)


@pytest.mark.parametrize(
    ("now", "terms"),
    [
        (later(hours=1), Terms("RESPONSE")),
        (later(hours=23, minutes=59), Terms("RESPONSE")),
        (later(hours=24), Terms("MESSAGE_TAG", "HUMAN_AGENT")),
        (later(days=3), Terms("MESSAGE_TAG", "HUMAN_AGENT")),
        (later(days=6, hours=23), Terms("MESSAGE_TAG", "HUMAN_AGENT")),
    ],
)
def test_an_agent_replies_freely_for_seven_days(now: datetime, terms: Terms) -> None:
    assert agent_terms(WROTE, now, (), None) == terms


def test_within_seven_days_a_tag_given_is_not_used() -> None:
    assert agent_terms(WROTE, later(days=2), UPDATE_TAGS, "ACCOUNT_UPDATE") == Terms(
        "MESSAGE_TAG", "HUMAN_AGENT"
    )


def test_past_seven_days_with_no_allowed_tags_the_window_is_closed() -> None:
    with pytest.raises(WindowClosed, match=r"window closed.*8 days ago.*allows none") as err:
        agent_terms(WROTE, later(days=8), (), "ACCOUNT_UPDATE")
    assert err.value.field == "tag"


def test_past_seven_days_an_allowed_tag_is_sent() -> None:
    assert agent_terms(WROTE, later(days=8), UPDATE_TAGS, "POST_PURCHASE_UPDATE") == Terms(
        "MESSAGE_TAG", "POST_PURCHASE_UPDATE"
    )


@pytest.mark.parametrize("tag", [None, "HUMAN_AGENT", "SOMETHING_ELSE"])
def test_past_seven_days_any_other_tag_is_refused_naming_the_choices(tag: str | None) -> None:
    with pytest.raises(WindowClosed, match="CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE"):
        agent_terms(WROTE, later(days=8), UPDATE_TAGS, tag)


def test_past_seven_days_human_agent_is_refused_even_when_listed() -> None:
    listed = ("HUMAN_AGENT", "ACCOUNT_UPDATE")
    with pytest.raises(WindowClosed, match=r"HUMAN_AGENT only within 7 days.*ACCOUNT_UPDATE$"):
        agent_terms(WROTE, later(days=8), listed, "HUMAN_AGENT")


def test_no_reply_to_someone_who_never_wrote() -> None:
    with pytest.raises(WindowClosed, match="has not written"):
        agent_terms(None, later(), UPDATE_TAGS, "ACCOUNT_UPDATE")


def test_a_flow_sends_only_within_24_hours() -> None:
    assert bot_terms(WROTE, later(hours=23)) == Terms("RESPONSE")
    assert bot_terms(WROTE, later(hours=30)) is None
    assert bot_skip_reason(WROTE, later(hours=30)).startswith("window_closed: ")
    assert "30 h ago" in bot_skip_reason(WROTE, later(hours=30))


def test_the_window_as_the_api_shows_it() -> None:
    shown = window(WROTE, later(days=3), ()).as_json(later(days=3))
    assert shown == {
        "open": False,
        "open_until": later(hours=24).isoformat(),
        "human_agent_until": later(days=7).isoformat(),
        "tag_required": False,
        "allowed_tags": [],
    }
    assert window(WROTE, later(days=8), UPDATE_TAGS).tag_required is True
    assert window(WROTE, later(hours=2), ()).as_json(later(hours=2))["open"] is True
