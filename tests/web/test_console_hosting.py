"""Bot hosting: switch chosen conversations, or all assigned ones, and be told how many."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from chat.models import Conversation, Member
from tests import seeding
from tests.browser.harness import OWNER, add_member
from web.services import Services

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CSRF = "test-csrf-value"
FRAGMENT = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's services with a team: Olga (owner) and Ada (an agent, her own only)."""
    found: Services = app.extensions["parley"]
    add_member(app, OWNER, "Olga Owner", role="owner")
    add_member(app, "ada@example.com", "Ada")
    return found


@pytest.fixture
def seeded(services: Services) -> dict[str, int]:
    """Ongoing: Carla and Ben (Ada's), Dana (nobody's); ended: Eve (Ada's). All hosted."""
    with services.outbox.transaction() as session:
        ada = session.scalars(select(Member.id).where(Member.email == "ada@example.com")).one()
    made = {"ada": ada}
    for minute, name in enumerate(("Carla", "Ben", "Dana", "Eve")):
        made[name], _ = seeding.visitor(services, name, T0 + timedelta(minutes=minute))
    for name in ("Carla", "Ben", "Eve"):
        seeding.assigned(services, made[name], ada, T0)
    seeding.ended(services, made["Eve"], T0 + timedelta(hours=1))
    return made


def post(client: FlaskClient, form: dict[str, object]) -> TestResponse:
    client.set_cookie("parley_csrf", CSRF)
    headers = {"X-CSRF-Token": CSRF, **FRAGMENT}
    return client.post("/bot-hosting", data=form, headers=headers)


def hosting(services: Services) -> dict[int, bool]:
    with services.outbox.transaction() as session:
        rows = session.execute(select(Conversation.id, Conversation.hosting))
        return {row.id: row.hosting for row in rows}


def state(page: str, conversation_id: int) -> str:
    start = page.index(f'<tr id="hosting-{conversation_id}">')
    cell = re.search(r'class="hosting-state">(.*?)</td>', page[start:], re.S)
    assert cell
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


def test_the_page_lists_the_ongoing_conversations_with_their_hosting(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    page = seeding.signed_in(client, services, OWNER).get("/bot-hosting").get_data(True)

    for name in ("Carla", "Ben", "Dana"):
        assert state(page, seeded[name]) == "On"
    assert f'id="hosting-{seeded["Eve"]}"' not in page
    assert 'aria-label="Select all on this page"' in page
    assert 'role="status"' in page


def test_switching_off_two_chosen_conversations_says_so_and_shows_them_off(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    owner = seeding.signed_in(client, services, OWNER)

    answer = post(owner, {"conversation_ids": [seeded["Carla"], seeded["Dana"]], "hosting": "off"})

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Hosting switched off for 2 conversations." in page
    assert 'hx-swap-oob="innerHTML"' in page
    assert [state(page, seeded[name]) for name in ("Carla", "Ben", "Dana")] == ["Off", "On", "Off"]
    assert hosting(services)[seeded["Ben"]] is True
    again = post(owner, {"conversation_ids": [seeded["Carla"]], "hosting": "off"})
    assert "Nothing changed: these conversations already had bot hosting off." in again.get_data(
        as_text=True
    )


def test_switching_with_nothing_chosen_asks_for_a_choice(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    answer = post(seeding.signed_in(client, services, OWNER), {"hosting": "off"})

    assert answer.status_code == 422
    assert "Select at least one conversation." in answer.get_data(as_text=True)
    assert "checked" not in answer.get_data(as_text=True)
    assert all(hosting(services).values())


def test_all_assigned_is_confirmed_with_its_count_then_switched(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    owner = seeding.signed_in(client, services, OWNER)
    dialog = owner.get("/bot-hosting/all?hosting=off", headers=FRAGMENT).get_data(as_text=True)
    assert "This changes 2 conversations." in dialog
    assert 'name="all" value="1"' in dialog

    answer = post(owner, {"all": "1", "hosting": "off"})

    assert "Hosting switched off for 2 conversations." in answer.get_data(as_text=True)
    after = hosting(services)
    assert [after[seeded[name]] for name in ("Carla", "Ben", "Dana", "Eve")] == [
        False,
        False,
        True,
        True,
    ]
    nothing = owner.get("/bot-hosting/all?hosting=off", headers=FRAGMENT).get_data(as_text=True)
    assert "No assigned conversation would change." in nothing


def test_an_agent_without_view_all_switches_only_their_own(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    ada = seeding.signed_in(client, services, "ada@example.com")
    page = ada.get("/bot-hosting").get_data(as_text=True)
    assert f'id="hosting-{seeded["Dana"]}"' not in page

    answer = post(ada, {"conversation_ids": [seeded["Carla"], seeded["Dana"]], "hosting": "off"})

    assert answer.status_code == 404
    refused = answer.get_data(as_text=True)
    assert "This is no longer here: reload the page." in refused
    assert re.search(rf'value="{seeded["Carla"]}"[^>]*checked', refused)  # her choice stays
    assert all(hosting(services).values())  # nothing changed, not even her own


def test_a_switch_without_a_csrf_value_is_refused(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    owner = seeding.signed_in(client, services, OWNER)

    answer = owner.post("/bot-hosting", data={"all": "1", "hosting": "off"})

    assert answer.status_code == 403
    assert all(hosting(services).values())
