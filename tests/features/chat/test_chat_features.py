"""Steps for the chat features: a workspace, its members and conversations, through the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from pytest_bdd import given, parsers, scenarios, then, when

from chat.conversations import record_message
from chat.members import add_member, create_workspace, issue_token
from chat.models import Contact, Conversation, Sender, Workspace
from server import create_app
from settings import Settings

scenarios("chat")

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Team:
    """The workspace under test: who is who, and the last API answer."""

    app: Flask
    client: FlaskClient
    workspace_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    member_ids: dict[str, int] = field(default_factory=dict)
    conversations: dict[str, int] = field(default_factory=dict)
    answer: Any = None

    def call(self, who: str, method: str, url: str, body: Any = None) -> Any:
        """Call the API as a member and keep the answer."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        response = self.client.open(url, method=method, headers=headers, json=body)
        assert response.status_code < 300, response.get_json()
        self.answer = response.get_json()
        return self.answer


@pytest.fixture
def team(redis_server: str, redis_client: redis.Redis, tmp_path: Path) -> Iterator[Team]:
    # SQLite: steps request fixtures by name, which pytest cannot parametrize; the chat and
    # web tests run on PostgreSQL too
    settings = Settings(redis_url=redis_server, data_dir=tmp_path / "var", flows_dir=ROOT / "flows")
    app = create_app(settings)
    team = Team(app, app.test_client())
    with app.extensions["parley"].sessions.begin() as session:
        workspace, owner, token = create_workspace(session, "Acme", "olga@example.com", "Olga")
        team.workspace_id, team.tokens["Olga"], team.member_ids["Olga"] = (
            workspace.id,
            token,
            owner.id,
        )
    yield team
    app.extensions["parley"].close()


@given(parsers.re(r'an agent "(?P<name>\w+)" who sees (?P<scope>only her own|all) conversations'))
def an_agent(team: Team, name: str, scope: str) -> None:
    permissions = ["contacts.edit"] + (["conversations.view_all"] if scope == "all" else [])
    with team.app.extensions["parley"].sessions.begin() as session:
        workspace = session.get(Workspace, team.workspace_id)
        assert workspace is not None
        member = add_member(
            session, workspace, f"{name.lower()}@example.com", name, "agent", permissions
        )
        session.flush()
        team.tokens[name], team.member_ids[name] = issue_token(session, member), member.id


@given(
    parsers.re(
        r'an? (?P<status>ongoing|ended) conversation with "(?P<visitor>[^"]+)"'
        r'(?: assigned to "(?P<agent>\w+)")?(?: received on (?P<day>[\d-]+))?'
    )
)
def a_conversation(
    team: Team, status: str, visitor: str, agent: str | None, day: str | None
) -> None:
    received = datetime.fromisoformat(f"{day or '2026-11-20'}T10:00:00+00:00")
    with team.app.extensions["parley"].sessions.begin() as session:
        contact = Contact(workspace_id=team.workspace_id, name=visitor, tags=["lead"])
        session.add(contact)
        session.flush()
        conversation = Conversation(
            workspace_id=team.workspace_id,
            contact_id=contact.id,
            channel="messenger",
            status=status,
            is_new_visitor=True,
            received_at=received,
            last_activity_at=received,
            assignee_id=team.member_ids[agent] if agent else None,
            hosting=agent is None,
        )
        session.add(conversation)
        session.flush()
        team.conversations[visitor] = conversation.id


@given(parsers.parse('in the conversation with "{visitor}" {sender} wrote at {time}'))
def a_message(team: Team, visitor: str, sender: str, time: str) -> None:
    at = datetime.fromisoformat(f"2026-11-20T{time}:00+00:00")
    kinds: dict[str, Sender] = {"the visitor": "visitor", "the bot": "bot"}
    with team.app.extensions["parley"].sessions.begin() as session:
        conversation = session.get(Conversation, team.conversations[visitor])
        assert conversation is not None
        member_id = None if sender in kinds else team.member_ids[sender.strip('"')]
        record_message(
            session,
            conversation,
            sender=kinds.get(sender, "agent"),
            text="...",
            at=at,
            member_id=member_id,
        )


@given(parsers.parse('"{who}" sets the remark name of "{visitor}" to "{remark}"'))
@when(parsers.parse('"{who}" sets the remark name of "{visitor}" to "{remark}"'))
def set_remark(team: Team, who: str, visitor: str, remark: str) -> None:
    contact_id = team.call(who, "GET", f"/conversations/{team.conversations[visitor]}")
    team.call(who, "PATCH", f"/contacts/{contact_id['contact_id']}", {"remark_name": remark})


@when(
    parsers.parse(
        '"{who}" turns bot hosting {switch} for the conversations with "{first}" and "{second}"'
    )
)
def hosting_for_some(team: Team, who: str, switch: str, first: str, second: str) -> None:
    ids = [team.conversations[first], team.conversations[second]]
    team.call(
        who, "POST", "/conversations/hosting", {"on": switch == "on", "conversation_ids": ids}
    )


@when(parsers.parse('"{who}" turns bot hosting {switch} for all assigned conversations'))
def hosting_for_all(team: Team, who: str, switch: str) -> None:
    team.call(who, "POST", "/conversations/hosting", {"on": switch == "on", "all": True})


@when(parsers.parse('"{who}" chooses to see channel names first and no visitor tags'))
def own_settings(team: Team, who: str) -> None:
    team.call(
        who, "PATCH", "/me/settings", {"prefer_remark_name": False, "show_visitor_tags": False}
    )


def _names(team: Team, who: str, query: str = "") -> list[str]:
    rows = team.call(who, "GET", f"/conversations{query}")["conversations"]
    return sorted(row["display_name"] for row in rows)


@then(parsers.parse('"{who}" sees the conversations of {names}'))
def sees_conversations(team: Team, who: str, names: str) -> None:
    assert _names(team, who) == sorted(n.strip().strip('"') for n in names.split(" and "))


@then(parsers.parse('"{who}"\'s contact list shows "{name}"'))
def contact_list_shows(team: Team, who: str, name: str) -> None:
    rows = team.call(who, "GET", "/contacts")["contacts"]
    assert name in [row["display_name"] for row in rows]


@then(parsers.parse('filtering contacts by the remark name "{remark}" finds only "{visitor}"'))
def remark_filter(team: Team, remark: str, visitor: str) -> None:
    rows = team.call("Olga", "GET", f"/contacts?remark_name={remark}")["contacts"]
    assert [row["name"] for row in rows] == [visitor]


@then(
    parsers.re(
        r'"(?P<who>\w+)"\'s dashboard shows (?P<ongoing>\d+) ongoing, (?P<ended>\d+) ended '
        r"and (?P<total>\d+) in all(?: for (?P<agent>\w+))?(?: received on (?P<day>[\d-]+))?$"
    )
)
def dashboard_shows(
    team: Team, who: str, ongoing: str, ended: str, total: str, agent: str | None, day: str | None
) -> None:
    filters = [f"assignee_id={team.member_ids[agent]}"] if agent else []
    if day:
        start = datetime.fromisoformat(f"{day}T00:00:00+00:00")
        for name, at in (("received_from", start), ("received_to", start + timedelta(days=1))):
            filters.append(f"{name}={at:%Y-%m-%dT%H:%M:%SZ}")
    counts = team.call(who, "GET", "/conversations/dashboard?" + "&".join(filters))
    assert counts == {"ongoing": int(ongoing), "ended": int(ended), "total": int(total)}


@then(parsers.parse("{count:d} conversations changed"))
def changed(team: Team, count: int) -> None:
    assert team.answer["changed"] == count


@then(parsers.parse('bot hosting is {switch} for the conversation with "{visitor}"'))
def hosting_is(team: Team, switch: str, visitor: str) -> None:
    row = team.call("Olga", "GET", f"/conversations/{team.conversations[visitor]}")
    assert row["hosting"] is (switch == "on")


@then(parsers.parse('"{who}" sees "{visitor}" listed as "{name}" {tags}'))
def listed_as(team: Team, who: str, visitor: str, name: str, tags: str) -> None:
    row = team.call(who, "GET", f"/conversations/{team.conversations[visitor]}")
    assert row["display_name"] == name
    assert (row["contact_tags"] is not None) is (tags == "with tags")


@then(
    parsers.parse(
        'the first response time of the conversation with "{visitor}" is {seconds:d} seconds'
    )
)
def first_response(team: Team, visitor: str, seconds: int) -> None:
    row = team.call("Olga", "GET", f"/conversations/{team.conversations[visitor]}")
    assert row["first_response_seconds"] == seconds
