"""An agent limited to own data walks every endpoint and finds nothing of anyone else's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from chat.members import add_member, issue_token
from chat.models import Contact, Conversation, Workspace
from web.openapi import document

SECRET = "Zelda Secretname"


@pytest.fixture
def agent(app: Flask, owner_token: str) -> dict[str, str]:
    """Ana, an agent without conversations.view_all, with one conversation of her own;
    and a conversation of someone else's, whose visitor she must never see."""
    now = datetime.now(UTC)
    with app.extensions["parley"].sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        ana = add_member(
            session,
            workspace,
            "ana@example.com",
            "Ana",
            "agent",
            ["contacts.edit"],
        )
        session.flush()
        for name, assignee in (("Own Visitor", ana.id), (SECRET, None)):
            contact = Contact(workspace_id=workspace.id, name=name, tags=[])
            session.add(contact)
            session.flush()
            session.add(
                Conversation(
                    workspace_id=workspace.id,
                    contact_id=contact.id,
                    channel="widget",
                    is_new_visitor=True,
                    received_at=now,
                    last_activity_at=now,
                    assignee_id=assignee,
                )
            )
        token = issue_token(session, ana)
    return {"Authorization": f"Bearer {token}"}


def foreign_ids(app: Flask) -> dict[str, int]:
    with app.extensions["parley"].sessions() as session:
        contact = session.scalars(select(Contact).where(Contact.name == SECRET)).one()
        conversation = session.scalars(
            select(Conversation).where(Conversation.contact_id == contact.id)
        ).one()
        return {"contact_id": contact.id, "conversation_id": conversation.id}


def test_every_read_shows_nothing_of_anyone_elses(
    app: Flask, client: FlaskClient, agent: dict[str, str]
) -> None:
    ids = foreign_ids(app)
    for path, operations in document()["paths"].items():
        if "get" not in operations or path.startswith(("/widget", "/openapi")):
            continue
        url = path.format(flow_id="win-back", member_id=1, sync_id=1, **ids)
        response = client.get(url, headers=agent)
        assert SECRET not in json.dumps(response.get_json()), url
        if path.startswith("/channels"):  # workspace settings: not hers to see at all
            assert response.status_code == 403, url
        elif "{" in path and "member" not in path and "flow" not in path:
            assert response.status_code == 404, url


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/conversations/{conversation_id}/messages", {"text": "hi"}),
        ("POST", "/conversations/{conversation_id}/assign", {"assignee_id": None}),
        ("POST", "/conversations/{conversation_id}/end", None),
        ("PATCH", "/contacts/{contact_id}", {"remark_name": "x"}),
    ],
)
def test_every_action_on_someone_elses_conversation_is_not_found(
    app: Flask,
    client: FlaskClient,
    agent: dict[str, str],
    method: str,
    path: str,
    body: object,
) -> None:
    response = client.open(path.format(**foreign_ids(app)), method=method, headers=agent, json=body)
    assert response.status_code == 404


def test_the_hosting_switch_refuses_someone_elses_conversation(
    app: Flask, client: FlaskClient, agent: dict[str, str]
) -> None:
    body = {"on": False, "conversation_ids": [foreign_ids(app)["conversation_id"]]}
    response = client.post("/conversations/hosting", headers=agent, json=body)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "conversation_ids"


def test_the_dashboard_counts_only_her_conversation(
    client: FlaskClient, agent: dict[str, str]
) -> None:
    counts = client.get("/conversations/dashboard", headers=agent).get_json()
    assert counts == {"ongoing": 1, "ended": 0, "total": 1}
