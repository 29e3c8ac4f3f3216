"""The contacts page: who wrote in, by search and remark name, linked to their conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import seeding
from web.services import Services

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's services, with the owner's team."""
    found: Services = app.extensions["parley"]
    seeding.team(found)
    return found


def signed_in(client: FlaskClient, services: Services, email: str) -> FlaskClient:
    """`client` with the console session of `email`."""
    client.set_cookie("parley_session", seeding.session_token(services, email))
    return client


def html(client: FlaskClient, path: str, **headers: str) -> str:
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def test_contacts_are_listed_by_remark_name_with_a_link_to_their_conversation(
    client: FlaskClient, services: Services
) -> None:
    conversation_id, _ = seeding.visitor(services, "Carla Diaz", NOON, remark="Carla (wholesale)")
    seeding.visitor(services, "Ben", NOON + timedelta(minutes=1))

    page = html(signed_in(client, services, "owner@example.com"), "/people")

    assert f'href="/inbox/{conversation_id}"' in page
    assert ">Carla (wholesale)</a>" in page
    assert "Carla Diaz" not in page  # the owner prefers remark names
    assert "Website widget" in page
    assert "2026-12-01 12:00 UTC" in page
