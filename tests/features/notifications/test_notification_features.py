"""Steps for the notification features: a desk of three members, an SMTP server, the
website widget and a Facebook Page on Meta's fake Graph API, on one virtual clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from pytest_bdd import given, parsers, scenarios, then, when

from engine.ports import ManualClock
from server import create_app
from tests.conftest import SmtpServer
from tests.fakes.graph_api import FakeGraphApi
from tests.notifications.desk import PUBLIC_URL, Desk, open_desk

scenarios("notifications")

EMAILS = {"Olga": "olga@example.com", "Ana": "ana@example.com", "Bo": "bo@example.com"}


@dataclass
class Story:
    desk: Desk
    assign_to: str | None = None


@pytest.fixture
def story(
    redis_server: str,
    redis_client: redis.Redis,
    graph_api: FakeGraphApi,
    tmp_path: Path,
    smtp_server: SmtpServer,
) -> Iterator[Story]:
    # SQLite: pytest-bdd steps cannot be parametrized over databases; tests/notifications
    # runs the same behaviour on PostgreSQL too
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    clock = ManualClock(graph_api.clock)
    with open_desk(redis_server, url, tmp_path, smtp_server, clock, graph_api) as desk:
        yield Story(desk)


def notification(story: Story, visitor: str) -> dict[str, Any]:
    conversation_id = story.desk.visitors[visitor][0]
    url = f"/conversations/{conversation_id}/notifications"
    (found,) = story.desk.api("Olga", "GET", url)["notifications"]
    return dict(found)


@given("a workspace of Olga, Ana and Bo that is emailed when a visitor has waited 10 minutes")
def workspace(story: Story) -> None:
    settings = story.desk.api("Olga", "GET", "/settings/notifications")
    assert settings == {"email": True, "after_minutes": 10}


@given(parsers.parse("the conversation with every visitor is assigned to {agent}"))
def assigned_to(story: Story, agent: str) -> None:
    story.assign_to = agent


@given(parsers.parse('a flow that answers every message with "{text}"'))
def answering_flow(story: Story, text: str) -> None:
    source = (
        "id: answer\ntrigger:\n  message_received:\n    states: [hosted, unassigned, assigned]\n"
        f'start: answer\nsteps:\n  answer:\n    say: "{text}"\n    end: true\n'
    )
    (story.desk.services.settings.flows_dir / "answer.yaml").write_text(source)
    assert not story.desk.services.reload_flows().failed(strict=True)


@given(parsers.parse('the mail server refuses the next email with "{reply}"'))
def refuses_next(story: Story, reply: str) -> None:
    story.desk.smtp.refusals.append(reply)


@given(parsers.parse('the mail server refuses every email with "{reply}"'))
def refuses_all(story: Story, reply: str) -> None:
    story.desk.smtp.refusals.extend([reply] * 100)


@when(parsers.parse('"{visitor}" writes "{text}" on the website'))
def writes_on_the_website(story: Story, visitor: str, text: str) -> None:
    first = visitor not in story.desk.visitors
    story.desk.writes(visitor, text)
    if first and story.assign_to:
        story.desk.assign(visitor, story.assign_to)


@when(parsers.parse('"{visitor}" writes "{text}" on Messenger'))
def writes_on_messenger(story: Story, visitor: str, text: str) -> None:
    story.desk.writes_on_messenger(visitor, text)


@when(parsers.parse('the conversation with "{visitor}" is assigned to {agent}'))
def assign(story: Story, visitor: str, agent: str) -> None:
    story.desk.assign(visitor, agent)


@when(parsers.parse('{agent} replies "{text}" to "{visitor}"'))
def replies(story: Story, agent: str, text: str, visitor: str) -> None:
    story.desk.replies(agent, visitor, text)


@when(parsers.parse('someone replies "{text}" to "{visitor}" from the Page inbox'))
def page_inbox(story: Story, text: str, visitor: str) -> None:
    story.desk.replies_from_the_page_inbox(visitor, text)


@when(parsers.re(r"(?P<count>\d+) minutes? pass(?:es)?$"))
def minutes_pass(story: Story, count: str) -> None:
    story.desk.minutes_pass(int(count))


@when(parsers.parse("{hours:d} hours pass, {step:d} minutes at a time"))
def hours_pass(story: Story, hours: int, step: int) -> None:
    for _ in range(hours * 60 // step):
        story.desk.minutes_pass(step)


@when("Parley restarts")
def restarts(story: Story) -> None:
    desk = story.desk
    settings = desk.services.settings
    desk.services.close()  # Redis and the database keep what they hold
    desk.app = create_app(settings, desk.clock)
    desk.client = desk.app.test_client()


@when("Olga switches the emails off")
def switched_off(story: Story) -> None:
    story.desk.api("Olga", "PATCH", "/settings/notifications", {"email": False})


@then(parsers.parse('Olga, Ana and Bo are each emailed "{subject}"'))
def everyone_emailed(story: Story, subject: str) -> None:
    assert sorted(story.desk.recipients()) == sorted(EMAILS.values())
    assert {str(message["Subject"]) for message in story.desk.emails()} == {subject}


@then(parsers.parse('the email quotes "{text}" and links to the conversation'))
def email_content(story: Story, text: str) -> None:
    body = story.desk.emails()[0].get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert f"> {text}" in content
    assert f"{PUBLIC_URL}/inbox/{story.desk.visitors['Carla'][0]}" in content


@then(parsers.parse("only {agent} is emailed"))
def only(story: Story, agent: str) -> None:
    assert story.desk.recipients() == [EMAILS[agent]]


@then(parsers.parse("{agent} is emailed {count:d} time"))
@then(parsers.parse("{agent} is emailed {count:d} times"))
def emailed_times(story: Story, agent: str, count: int) -> None:
    assert story.desk.recipients() == [EMAILS[agent]] * count


@then(parsers.parse('the bot has answered "{visitor}" with "{text}"'))
def bot_answered(story: Story, visitor: str, text: str) -> None:
    url = f"/conversations/{story.desk.visitors[visitor][0]}/messages"
    messages = story.desk.api("Olga", "GET", url)["messages"]
    assert [m["text"] for m in messages if m["sender"] == "bot"] == [text]


@then("nobody is emailed")
def nobody(story: Story) -> None:
    assert story.desk.emails() == []


@then(parsers.parse('the notification about "{visitor}" is "{status}", saying "{words}"'))
def notification_says(story: Story, visitor: str, status: str, words: str) -> None:
    found = notification(story, visitor)
    assert found["status"] == status
    assert words in (found["error"] or "")
