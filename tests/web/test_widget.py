"""The website widget end to end: a visitor meets a flow without Messenger."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chat.models import Conversation


def start(client: FlaskClient) -> tuple[int, dict[str, str]]:
    reply = client.post("/widget/conversations", json={"name": "Ben"})
    assert reply.status_code == 201
    body = reply.get_json()
    return body["conversation_id"], {"X-Visitor-Token": body["visitor_token"]}


@pytest.fixture(autouse=True)
def workspace(owner_token: str) -> None:
    """The widget needs a workspace to put visitors in."""


def test_a_new_widget_visitor_sees_the_promo_card(app: Flask) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    app.extensions["parley"].settle()
    messages = client.get(f"/widget/conversations/{conversation}/messages", headers=visitor)
    cards = [m for m in messages.get_json()["messages"] if m["sender"] == "bot"]
    assert cards[0]["attachments"][0]["title"] == "15% off your first order"


def test_the_visitor_fills_the_card_and_the_flow_thanks_them(app: Flask) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    app.extensions["parley"].settle()
    reply = client.post(
        f"/widget/conversations/{conversation}/inputs",
        headers=visitor,
        json={"text": "ben@example.com"},
    )
    assert reply.status_code == 202
    app.extensions["parley"].settle()
    texts = [
        m["text"]
        for m in client.get(
            f"/widget/conversations/{conversation}/messages", headers=visitor
        ).get_json()["messages"]
    ]
    assert "Done! The code is on its way to ben@example.com." in texts


def test_the_same_visitor_resumes_their_ongoing_conversation(app: Flask) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    again = client.post("/widget/conversations", json={"visitor_token": visitor["X-Visitor-Token"]})
    assert again.status_code == 200
    assert again.get_json()["conversation_id"] == conversation


def test_a_message_sent_again_with_its_client_id_is_stored_once(app: Flask) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    path = f"/widget/conversations/{conversation}/messages"
    body = {"text": "Hello?", "client_id": "a1"}
    first = client.post(path, headers=visitor, json=body)
    again = client.post(path, headers=visitor, json=body)  # its answer was lost: retried
    other = client.post(path, headers=visitor, json={**body, "client_id": "a2"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.get_json() == first.get_json()
    texts = [m["text"] for m in client.get(path, headers=visitor).get_json()["messages"]]
    assert texts.count("Hello?") == 2


def test_a_visitor_cannot_read_someone_elses_conversation(app: Flask) -> None:
    client = app.test_client()
    conversation, _ = start(client)
    _, stranger = start(client)
    reply = client.get(f"/widget/conversations/{conversation}/messages", headers=stranger)
    assert reply.status_code == 404
    assert reply.get_json()["error"]["field"] == "conversation_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "text"), ({"text": ""}, "text"), ({"text": "hi", "extra": 1}, "extra")],
)
def test_a_bad_message_body_names_the_field(
    app: Flask, body: dict[str, object], field: str
) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    reply = client.post(
        f"/widget/conversations/{conversation}/messages", headers=visitor, json=body
    )
    assert reply.status_code == 422
    assert reply.get_json()["error"]["field"] == field


def test_a_body_that_is_not_json_is_refused(app: Flask) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    reply = client.post(
        f"/widget/conversations/{conversation}/messages",
        headers=visitor,
        data="text=hi",
        content_type="text/plain",
    )
    assert reply.status_code == 400


def test_text_with_a_nul_character_is_refused(app: Flask) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    reply = client.post(
        f"/widget/conversations/{conversation}/messages", headers=visitor, json={"text": "a\x00b"}
    )
    assert reply.status_code == 422
    assert reply.get_json()["error"]["field"] == "text"


def test_an_ended_conversation_takes_no_more_messages(app: Flask) -> None:
    client = app.test_client()
    conversation, visitor = start(client)
    with app.extensions["parley"].sessions.begin() as session:
        found = session.get(Conversation, conversation)
        assert found is not None
        found.status = "ended"
    reply = client.post(
        f"/widget/conversations/{conversation}/messages", headers=visitor, json={"text": "hi"}
    )
    assert reply.status_code == 409
