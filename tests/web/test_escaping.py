"""What a visitor types never becomes markup: their name and their messages go through
every HTML Parley writes (the console's pages, flow emails, notification emails) as text,
escaped."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from channels.email import render_email
from chat.bridge import email_facts
from chat.models import Conversation
from chat.notifications import waiting_email
from tests.inbox_team import Team

ATTACKS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
NAME, TEXT = ATTACKS


@pytest.fixture
def team(app: Flask) -> Team:
    team = Team(app)
    conversation = team.visitor(NAME, TEXT)  # a widget visitor names themself, then writes
    team.write(conversation, ATTACKS[1])
    return team


@pytest.fixture
def conversation_id(team: Team, app: Flask) -> int:
    with app.extensions["parley"].sessions() as session:
        found: int = session.scalars(select(Conversation.id)).one()
        return found


def _owners_view(app: Flask, team: Team, path: str) -> str:
    client: FlaskClient = app.test_client()
    client.set_cookie("parley_session", team.session_token("Olga"))
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/inbox",
        "/inbox/rows",
        "/inbox/{id}",
        "/inbox/{id}/messages",
        "/inbox/{id}/header",
        "/inbox/{id}/customer",
        "/people",
        "/management",
        "/bot-hosting",
    ],
)
def test_console_pages_show_what_the_visitor_typed_as_text(
    app: Flask, team: Team, conversation_id: int, path: str
) -> None:
    html = _owners_view(app, team, path.format(id=conversation_id))
    for attack in ATTACKS:
        assert attack not in html
    assert "&lt;script&gt;" in html or "&#34;&gt;&lt;img" in html


def test_a_flow_html_email_escapes_the_contact_facts(
    app: Flask, team: Team, conversation_id: int, tmp_path: Path
) -> None:
    (tmp_path / "hello.txt").write_text("Hello {{ contact.display_name }}")
    (tmp_path / "hello.html").write_text("<p>Hello {{ contact.display_name }}</p>")
    with app.extensions["parley"].sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        facts = email_facts(conversation, conversation.received_at)
    text, html = render_email(tmp_path, "hello", facts, 0.0)
    assert text == f"Hello {NAME}"  # plain text stays as typed
    assert html == "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_a_waiting_email_escapes_the_name_and_the_messages() -> None:
    _, _, html = waiting_email(NAME, 5, list(ATTACKS), "https://parley.example/inbox/1")
    for attack in ATTACKS:
        assert attack not in html
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>" in html
    assert "<li>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</li>" in html
