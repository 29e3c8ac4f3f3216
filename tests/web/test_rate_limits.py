"""Rate limits: an address, a visitor or a token that asks too often is answered 429 with
Retry-After, counted in Redis across every process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from chat.models import Member
from chat.signin import issue_password_link
from server import create_app
from settings import RateRules, Settings
from tests.web.test_console_signin import set_password, sign_in


@pytest.fixture(autouse=True)
def workspace(owner_token: str) -> None:
    """The widget needs a workspace: the owner's token fixture makes it."""


def _start(client: FlaskClient, address: str = "127.0.0.1") -> int:
    answer = client.post(
        "/widget/conversations", json={"name": "Ana"}, environ_base={"REMOTE_ADDR": address}
    )
    return answer.status_code


def test_an_address_starting_too_many_widget_conversations_is_told_to_wait(
    client: FlaskClient,
) -> None:
    assert [_start(client) for _ in range(30)] == [201] * 30  # 30 a minute by default
    answer = client.post("/widget/conversations", json={"name": "Ana"})
    assert answer.status_code == 429
    assert answer.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    assert _start(client, "192.0.2.7") == 201  # another address is not held back


def test_a_widget_visitor_writing_too_fast_is_told_to_wait(client: FlaskClient) -> None:
    started = client.post("/widget/conversations", json={}).get_json()
    path = f"/widget/conversations/{started['conversation_id']}/messages"
    visitor = {"X-Visitor-Token": started["visitor_token"]}
    statuses = [
        client.post(path, json={"text": "hi"}, headers=visitor).status_code for _ in range(61)
    ]
    assert statuses == [201] * 60 + [429]


def test_an_address_guessing_api_tokens_is_held_back_even_with_the_right_one(
    client: FlaskClient, owner: dict[str, str]
) -> None:
    wrong = {"Authorization": "Bearer pk_not-a-token"}
    assert [client.get("/contacts", headers=wrong).status_code for _ in range(10)] == [401] * 10
    answer = client.get("/contacts", headers=owner)
    assert answer.status_code == 429
    assert "Retry-After" in answer.headers


def test_right_tokens_are_not_counted(client: FlaskClient, owner: dict[str, str]) -> None:
    assert {client.get("/contacts", headers=owner).status_code for _ in range(15)} == {200}


def test_an_address_guessing_passwords_is_told_to_wait_in_the_console(
    app: Flask, client: FlaskClient
) -> None:
    services = app.extensions["parley"]
    with services.sessions.begin() as session:
        owner = session.scalars(select(Member)).one()
        link = issue_password_link(session, owner, services.now())
    set_password(client, f"/password/{link}")
    assert [sign_in(client, "wrong password!").status_code for _ in range(10)] == [401] * 10
    answer = sign_in(client)
    assert answer.status_code == 429
    assert "Too many tries from here" in answer.get_data(as_text=True)


@pytest.fixture
def strict_app(service_settings: Settings) -> Iterator[Flask]:
    """A deployment behind one proxy, taking 2 webhook calls a minute from an address."""
    rules = replace(RateRules(), webhook="2/minute")
    app = create_app(replace(service_settings, rate_rules=rules, proxies=1))
    yield app
    app.extensions["parley"].close()


def test_webhook_calls_over_the_limit_are_refused_before_their_signature_is_read(
    strict_app: Flask,
) -> None:
    client = strict_app.test_client()
    proxied = {"X-Forwarded-For": "198.51.100.4"}
    statuses = [
        client.post("/webhooks/messenger", data=b"{}", headers=proxied).status_code
        for _ in range(3)
    ]
    assert statuses == [403, 403, 429]  # unsigned: refused, and past the limit not even read
    other = {"X-Forwarded-For": "198.51.100.5"}  # the proxy says who the caller is
    assert client.post("/webhooks/messenger", data=b"{}", headers=other).status_code == 403
