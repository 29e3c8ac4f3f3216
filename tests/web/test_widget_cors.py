"""The widget on the customer's website: the origins in PARLEY_WIDGET_ORIGINS may call the
widget API from visitors' browsers; other websites may not read its answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chat.members import create_workspace
from server import create_app
from settings import Settings, SettingsError

SHOP = "https://shop.example"


@pytest.fixture
def client(service_settings: Settings) -> Iterator[FlaskClient]:
    app: Flask = create_app(replace(service_settings, widget_origins=(SHOP,)))
    with app.extensions["parley"].sessions.begin() as session:
        create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
    yield app.test_client()
    app.extensions["parley"].close()


def test_the_browser_may_ask_before_a_visitor_on_an_allowed_site_writes(
    client: FlaskClient,
) -> None:
    preflight = client.options(
        "/widget/conversations/1/messages",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-visitor-token",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "X-Visitor-Token" in preflight.headers["Access-Control-Allow-Headers"]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_a_visitor_on_an_allowed_site_reads_the_answers(client: FlaskClient) -> None:
    answer = client.post("/widget/conversations", json={}, headers={"Origin": SHOP})
    assert answer.status_code == 201
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in answer.headers["Vary"]


def test_another_site_may_not_read_the_answers(client: FlaskClient) -> None:
    answer = client.post(
        "/widget/conversations", json={}, headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_an_origin_with_a_path_is_refused_as_a_setting() -> None:
    with pytest.raises(SettingsError, match="PARLEY_WIDGET_ORIGINS"):
        Settings.from_env({"PARLEY_WIDGET_ORIGINS": "https://shop.example/help"})
    origins = Settings.from_env(
        {"PARLEY_WIDGET_ORIGINS": "https://a.example, http://b.example:8080/"}
    )
    assert origins.widget_origins == ("https://a.example", "http://b.example:8080")
