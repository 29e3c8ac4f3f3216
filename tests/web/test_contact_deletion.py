"""A contact deleted for a privacy request: gone with their conversations and messages, and
forgotten by the engine (state, trace, drill-down rows); only the owner or an admin may."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from chat.members import issue_token
from chat.models import Contact, Conversation, Member, Message
from tests.inbox_team import Team


def _visitor(client: FlaskClient) -> tuple[int, int]:
    """A widget visitor who writes once; (contact id, conversation id)."""
    started = client.post("/widget/conversations", json={"name": "Ana"}).get_json()
    conversation = started["conversation_id"]
    client.post(
        f"/widget/conversations/{conversation}/messages",
        json={"text": "my address is 1 Main St"},
        headers={"X-Visitor-Token": started["visitor_token"]},
    )
    return _contact_of(client.application, conversation), conversation


def _contact_of(app: Flask, conversation_id: int) -> int:
    with app.extensions["parley"].sessions() as session:
        found = session.get(Conversation, conversation_id)
        assert found is not None
        contact: int = found.contact_id
        return contact


def _count(app: Flask, model: type[Contact] | type[Conversation] | type[Message]) -> int:
    with app.extensions["parley"].sessions() as session:
        return len(session.scalars(select(model)).all())


def test_the_owner_deletes_a_contact_and_everything_about_them_goes(
    app: Flask, client: FlaskClient, owner: dict[str, str]
) -> None:
    contact, conversation = _visitor(client)
    services = app.extensions["parley"]
    services.settle()
    visitors = client.get("/flows/promo-card/visitors", headers=owner).get_json()
    assert [row["visitor_id"] for row in visitors["visitors"]] == [f"contact-{contact}"]

    assert client.delete(f"/contacts/{contact}", headers=owner).status_code == 204
    services.settle()
    assert client.get(f"/contacts/{contact}", headers=owner).status_code == 404
    assert client.get(f"/conversations/{conversation}", headers=owner).status_code == 404
    assert (_count(app, Contact), _count(app, Conversation), _count(app, Message)) == (0, 0, 0)
    assert client.get("/flows/promo-card/visitors", headers=owner).get_json()["visitors"] == []
    state, _ = services.engine.store.load(f"contact-{contact}")
    assert state.forgotten
    assert state.facts == {}
    assert services.engine.store.traces(f"contact-{contact}") == []
    funnel = client.get("/flows/promo-card/funnel", headers=owner).get_json()
    assert funnel["triggered_visitors"] == 1  # the counts stay: they name no one


@pytest.mark.parametrize("role", ["agent"])
def test_an_agent_may_not_delete_a_contact(
    app: Flask, client: FlaskClient, owner: dict[str, str], role: str
) -> None:
    contact, _ = _visitor(client)
    team = Team(app)
    team.member("Ben", role=role, permissions=["conversations.view_all", "contacts.edit"])
    with app.extensions["parley"].sessions.begin() as session:
        ben = session.scalars(select(Member).where(Member.name == "Ben")).one()
        token = issue_token(session, ben)
    answer = client.delete(f"/contacts/{contact}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert client.get(f"/contacts/{contact}", headers=owner).status_code == 200


def test_an_unknown_contact_is_not_found(client: FlaskClient, owner: dict[str, str]) -> None:
    answer = client.delete("/contacts/999", headers=owner)
    assert answer.status_code == 404
    assert answer.get_json()["error"]["field"] == "contact_id"
