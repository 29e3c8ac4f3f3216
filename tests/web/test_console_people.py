"""The contacts page: who wrote in, by search and remark name, linked to their conversation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from chat.members import update_list_settings
from chat.models import Member
from tests import seeding
from tests.browser.harness import OWNER, add_member
from web.services import Services

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's services, with the owner's team."""
    found: Services = app.extensions["parley"]
    add_member(app, OWNER, "Olga Owner", role="owner")
    return found


def html(client: FlaskClient, path: str, **headers: str) -> str:
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def test_contacts_are_listed_by_remark_name_with_a_link_to_their_conversation(
    client: FlaskClient, services: Services
) -> None:
    conversation_id, _ = seeding.visitor(services, "Carla Diaz", NOON, remark="Carla (wholesale)")
    seeding.visitor(services, "Ben", NOON + timedelta(minutes=1))

    page = html(seeding.signed_in(client, services, OWNER), "/people")

    assert f'href="/inbox/{conversation_id}"' in page
    assert ">Carla (wholesale)</a>" in page
    assert "Carla Diaz" not in page  # the owner prefers remark names
    assert "Website widget" in page
    assert "2026-12-01 12:00 UTC" in page


@pytest.fixture
def three(services: Services) -> dict[str, int]:
    """Three visitors, two with remark names; their conversation ids by name."""
    made = {}
    for minute, (name, remark) in enumerate(
        [("Carla Diaz", "Carla (wholesale)"), ("Carl Berg", "Carl"), ("Dana", None)]
    ):
        made[name], _ = seeding.visitor(
            services, name, NOON + timedelta(minutes=minute), remark=remark
        )
    return made


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("remark=carl", ["Carla (wholesale)", ">Carl<"], ["Dana"]),
        ("remark=Carl&exact=1", [">Carl<"], ["Carla (wholesale)", "Dana"]),
        ("search=dana", ["Dana"], ["Carla (wholesale)", ">Carl<"]),
        ("search=berg", [">Carl<"], ["Dana", "Carla (wholesale)"]),
    ],
)
def test_contacts_are_found_by_remark_name_or_by_search(
    client: FlaskClient,
    services: Services,
    three: dict[str, int],
    query: str,
    shown: list[str],
    hidden: list[str],
) -> None:
    page = html(seeding.signed_in(client, services, OWNER), f"/people?{query}")

    for text in shown:
        assert text in page
    for text in hidden:
        assert text not in page


def test_a_filter_that_finds_nobody_says_so(
    client: FlaskClient, services: Services, three: dict[str, int]
) -> None:
    page = html(seeding.signed_in(client, services, OWNER), "/people?remark=zzz")

    assert "No contact matches these filters." in page


def test_an_agent_without_view_all_sees_only_the_contacts_of_their_conversations(
    app: Flask, client: FlaskClient, services: Services, three: dict[str, int]
) -> None:
    ada = add_member(app, "ada@example.com", "Ada")
    seeding.assigned(services, three["Dana"], ada, NOON)

    page = html(seeding.signed_in(client, services, "ada@example.com"), "/people")

    assert f'href="/inbox/{three["Dana"]}"' in page
    assert "Carla" not in page


def test_the_list_follows_the_agents_name_and_tag_settings(
    client: FlaskClient, services: Services, three: dict[str, int]
) -> None:
    owner = seeding.signed_in(client, services, OWNER)
    assert ">Tags</th>" in html(owner, "/people")
    with services.outbox.transaction() as session:
        olga = session.scalars(select(Member).where(Member.email == OWNER)).one()
        update_list_settings(session, olga, show_visitor_tags=False, prefer_remark_name=False)

    page = html(owner, "/people")

    assert ">Carla Diaz</a>" in page
    assert ">Tags</th>" not in page


def test_contacts_come_a_page_at_a_time(
    client: FlaskClient, services: Services, three: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.console.people.PAGE_SIZE", 2)
    owner = seeding.signed_in(client, services, OWNER)
    first = html(owner, "/people")
    found = re.search(r'href="(/people\?cursor=[^"]+)"', first)
    assert found
    assert "Dana" in first
    assert "Carla (wholesale)" not in first

    second = html(owner, found.group(1).replace("&amp;", "&"))

    assert "Carla (wholesale)" in second
    assert "Dana" not in second
    assert "First page" in second
    assert "Next page" not in second


def test_htmx_gets_only_the_results_and_a_foreign_cursor_is_explained(
    client: FlaskClient, services: Services, three: dict[str, int]
) -> None:
    owner = seeding.signed_in(client, services, OWNER)
    part = html(
        owner, "/people?search=dana", **{"HX-Request": "true", "HX-Request-Type": "partial"}
    )
    assert "<h1>" not in part
    assert ">Dana<" in part

    answer = owner.get("/people?cursor=nonsense")

    assert answer.status_code == 422
    assert "This page link is out of date" in answer.get_data(as_text=True)
