"""Emails when a visitor's message waits too long: who gets them, once per streak, and what
stops them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from server import create_app
from tests.notifications.desk import PUBLIC_URL, Desk, desk_settings

EVERYONE = ["olga@example.com", "ana@example.com", "bo@example.com"]


def notifications(desk: Desk, visitor: str) -> list[dict[str, Any]]:
    conversation_id = desk.visitors[visitor][0]
    found: list[dict[str, Any]] = desk.api(
        "Olga", "GET", f"/conversations/{conversation_id}/notifications"
    )["notifications"]
    return found


def test_an_unassigned_visitor_waiting_10_minutes_emails_every_member(desk: Desk) -> None:
    desk.writes("Carla", "Do you ship to Lisbon?")
    desk.minutes_pass(9)
    assert desk.emails() == []
    desk.minutes_pass(1)
    assert sorted(desk.recipients()) == sorted(EVERYONE)
    message = desk.emails()[0]
    assert message["Subject"] == "Carla has been waiting 10 minutes for a reply"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    link = f"{PUBLIC_URL}/inbox/{desk.visitors['Carla'][0]}"
    assert "> Do you ship to Lisbon?" in text
    assert link in text
    assert "<li>Do you ship to Lisbon?</li>" in html
    assert link in html


def test_an_assigned_visitor_emails_only_the_assigned_agent(desk: Desk) -> None:
    desk.writes("Carla", "hello")
    desk.assign("Carla", "Ana")
    desk.minutes_pass(10)
    assert desk.recipients() == ["ana@example.com"]


def test_one_email_per_waiting_streak(desk: Desk) -> None:
    desk.writes("Carla", "hello")
    desk.minutes_pass(5)
    desk.writes("Carla", "anyone there?")
    desk.minutes_pass(5)
    desk.writes("Carla", "hello??")
    desk.minutes_pass(30)
    assert len(desk.emails()) == 3  # one each, 10 minutes after the first message
    desk.replies("Olga", "Carla", "Sorry, here now")
    desk.writes("Carla", "thanks, one more question")
    desk.minutes_pass(10)
    assert len(desk.emails()) == 6  # a new streak, a new email


def test_an_agent_reply_cancels_the_pending_email(desk: Desk) -> None:
    desk.writes("Carla", "hello")
    desk.minutes_pass(9)
    desk.replies("Olga", "Carla", "Hi Carla!")
    desk.minutes_pass(60)
    assert desk.emails() == []
    assert notifications(desk, "Carla") == []


def test_the_bot_answering_does_not_cancel_it(desk: Desk) -> None:
    flow = (
        "id: greet\ntrigger:\n  message_received:\nstart: hi\n"
        'steps:\n  hi:\n    say: "Thanks! A person will answer soon."\n    end: true\n'
    )
    (desk.services.settings.flows_dir / "greet.yaml").write_text(flow)
    assert not desk.services.reload_flows().failed(strict=True)
    desk.writes("Carla", "hello")
    desk.minutes_pass(10)
    assert len(desk.emails()) == 3


def test_the_waiting_timer_survives_a_restart(
    desk: Desk, redis_server: str, db_url: str, tmp_path: Path
) -> None:
    desk.writes("Carla", "hello")
    desk.services.close()  # Parley stops; Redis and the database keep what they hold
    settings = desk_settings(redis_server, db_url, tmp_path / "again", desk.smtp)
    again = create_app(settings, desk.clock).extensions["parley"]
    try:
        desk.clock.advance(10 * 60)
        again.settle()
        again.settle()  # a second round finds nothing more to do
    finally:
        again.close()
    assert sorted(desk.recipients()) == sorted(EVERYONE)


def test_a_refused_email_is_tried_again_later(desk: Desk) -> None:
    desk.smtp.refusals.append("451 4.3.0 try again later")
    desk.writes("Carla", "hello")
    desk.assign("Carla", "Ana")
    desk.minutes_pass(10)
    assert desk.emails() == []
    (waiting,) = notifications(desk, "Carla")
    assert waiting["status"] == "pending"
    assert "try again later" in waiting["error"]
    desk.minutes_pass(1)
    assert desk.recipients() == ["ana@example.com"]
    (sent,) = notifications(desk, "Carla")
    assert (sent["status"], sent["attempts"]) == ("sent", 2)


def test_an_email_that_keeps_failing_is_marked_failed_with_the_reason(desk: Desk) -> None:
    desk.smtp.refusals.extend(["554 5.7.1 mailbox unavailable"] * 5)
    desk.writes("Carla", "hello")
    desk.assign("Carla", "Ana")
    desk.minutes_pass(10)
    for minutes in (1, 5, 15, 60):
        desk.minutes_pass(minutes)
    (failed,) = notifications(desk, "Carla")
    assert (failed["status"], failed["attempts"]) == ("failed", 5)
    assert "mailbox unavailable" in failed["error"]
    desk.minutes_pass(24 * 60)
    assert desk.emails() == []


def test_switching_emails_off_stops_those_not_yet_sent(desk: Desk) -> None:
    desk.smtp.refusals.append("451 4.3.0 try again later")
    desk.writes("Carla", "hello")
    desk.assign("Carla", "Ana")
    desk.minutes_pass(10)  # Carla's email is refused once and waits for its retry
    desk.api("Olga", "PATCH", "/settings/notifications", {"email": False})
    desk.writes("Dan", "hi")
    desk.minutes_pass(60)
    assert desk.emails() == []
    (stopped,) = notifications(desk, "Carla")
    assert stopped["status"] == "cancelled"
    assert notifications(desk, "Dan") == []


def test_a_new_waiting_time_applies_to_streaks_that_start_afterwards(desk: Desk) -> None:
    desk.writes("Carla", "hello")
    desk.api("Olga", "PATCH", "/settings/notifications", {"after_minutes": 30})
    desk.minutes_pass(10)
    assert len(desk.emails()) == 3  # Carla's streak began under the 10 minutes
    desk.writes("Dan", "hi")
    desk.minutes_pass(29)
    assert len(desk.emails()) == 3
    desk.minutes_pass(1)
    assert len(desk.emails()) == 6


def test_the_settings_are_visible_to_all_and_changed_by_settings_managers(desk: Desk) -> None:
    assert desk.api("Ana", "GET", "/settings/notifications") == {"email": True, "after_minutes": 10}
    refused = desk.api("Ana", "PATCH", "/settings/notifications", {"email": False}, status=403)
    assert refused["error"]["code"] == "forbidden"
    bad = desk.api("Olga", "PATCH", "/settings/notifications", {"after_minutes": 0}, status=422)
    assert bad["error"]["field"] == "after_minutes"


def test_without_smtp_settings_the_email_is_marked_failed_saying_so(desk: Desk) -> None:
    desk.services.settings = replace(desk.services.settings, smtp=None)
    desk.writes("Carla", "hello")
    desk.assign("Carla", "Ana")
    desk.minutes_pass(10)
    (failed,) = notifications(desk, "Carla")
    assert (failed["status"], failed["error"]) == (
        "failed",
        "no SMTP server is configured (PARLEY_SMTP_HOST)",
    )
