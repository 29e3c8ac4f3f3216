"""Conversation management: counts and lists by agent and reception day, with their figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from chat.models import Member
from tests import seeding
from tests.browser.harness import OWNER, add_member
from web.console.management import duration_text
from web.services import Services

DAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's services with a team: Olga (owner), Ada and Bo (agents, their own only)."""
    found: Services = app.extensions["parley"]
    add_member(app, OWNER, "Olga Owner", role="owner")
    add_member(app, "ada@example.com", "Ada")
    add_member(app, "bo@example.com", "Bo")
    return found


@pytest.fixture
def seeded(services: Services) -> dict[str, int]:
    """Carla (Dec 1, Ada answered after 2 min 5 s), Ben (Dec 2, Bo's, ended unanswered),
    Dana (Dec 3, nobody's yet); the conversation ids, and the agents' ids."""
    ada, bo = member_id(services, "ada@example.com"), member_id(services, "bo@example.com")
    carla, carla_token = seeding.visitor(services, "Carla", DAY)
    seeding.assigned(services, carla, ada, DAY)
    seeding.visitor_writes(services, carla_token, carla, DAY)
    seeding.agent_replies(services, ada, carla, DAY + timedelta(seconds=125))
    ben, ben_token = seeding.visitor(services, "Ben", DAY + timedelta(days=1))
    seeding.assigned(services, ben, bo, DAY + timedelta(days=1))
    for minute in (1, 2):
        seeding.visitor_writes(services, ben_token, ben, DAY + timedelta(days=1, minutes=minute))
    seeding.ended(services, ben, DAY + timedelta(days=1, hours=1))
    dana, _ = seeding.visitor(services, "Dana", DAY + timedelta(days=2))
    return {"carla": carla, "ben": ben, "dana": dana, "ada": ada, "bo": bo}


def member_id(services: Services, email: str) -> int:
    with services.outbox.transaction() as session:
        return session.scalars(select(Member.id).where(Member.email == email)).one()


def get(client: FlaskClient, path: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def counts(page: str) -> dict[str, int]:
    found = re.findall(r'<dd id="count-(\w+)">(\d+)</dd>', page)
    return {name: int(number) for name, number in found}


def section(page: str, status: str) -> str:
    start = page.index(f'id="list-{status}"')
    return page[start : page.index("</section>", start)]


def row(page: str, conversation_id: int) -> list[str]:
    start = page.index(f'<tr id="conversation-{conversation_id}">')
    cells = page[start : page.index("</tr>", start)]
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", cells, re.S)
    ]


def test_the_owner_sees_every_conversation_counted_and_listed_with_its_figures(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    page = get(seeding.signed_in(client, services, OWNER), "/management")

    assert counts(page) == {"ongoing": 2, "ended": 1, "total": 3}
    assert row(page, seeded["carla"]) == [
        "Carla",
        "Ada",
        "2026-12-01 09:00 UTC",
        "2",
        "1",
        "1",
        "2 min 5 s",
    ]
    assert row(page, seeded["ben"]) == ["Ben", "Bo", "2026-12-02 09:00 UTC", "2", "2", "0", "—"]
    assert row(page, seeded["dana"])[1] == "Unassigned"
    assert f'id="conversation-{seeded["ben"]}"' in section(page, "ended")
    assert f'href="/inbox/{seeded["carla"]}"' in section(page, "ongoing")
    assert ">All agents</option>" in page


def test_choosing_an_agent_narrows_the_counts_and_the_lists(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    page = get(
        seeding.signed_in(client, services, OWNER),
        f"/management?agent={seeded['bo']}",
    )

    assert counts(page) == {"ongoing": 0, "ended": 1, "total": 1}
    assert ">Ben</a>" in page
    assert ">Carla</a>" not in page


@pytest.mark.parametrize(
    ("days", "shown", "total"),
    [
        ("from=2026-12-02&to=2026-12-02", ["Ben"], 1),  # one whole day
        ("from=2026-12-02", ["Ben", "Dana"], 2),
        ("to=2026-12-01", ["Carla"], 1),
    ],
)
def test_the_reception_days_narrow_the_counts_and_the_lists(
    client: FlaskClient,
    services: Services,
    seeded: dict[str, int],
    days: str,
    shown: list[str],
    total: int,
) -> None:
    page = get(seeding.signed_in(client, services, OWNER), f"/management?{days}")

    assert counts(page)["total"] == total
    for name in ("Carla", "Ben", "Dana"):
        assert (f">{name}</a>" in page) == (name in shown)


def test_a_last_day_before_the_first_is_refused_at_its_field(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    owner = seeding.signed_in(client, services, OWNER)
    page = get(owner, "/management?from=2026-12-03&to=2026-12-01", 422)

    assert 'id="filter-to-error">The last day is before the first day.</p>' in page
    assert re.search(r'id="filter-to"[^>]*aria-invalid="true"', page, re.S)
    assert "count-total" not in page

    assert "Give a date such as 2026-12-01." in get(owner, "/management?from=yesterday", 422)


def test_an_agent_without_view_all_sees_only_their_own_whatever_they_ask(
    client: FlaskClient, services: Services, seeded: dict[str, int]
) -> None:
    ada = seeding.signed_in(client, services, "ada@example.com")
    for path in ("/management", f"/management?agent={seeded['bo']}"):
        page = get(ada, path)

        assert counts(page) == {"ongoing": 1, "ended": 0, "total": 1}
        assert ">Carla</a>" in page
        assert ">Ben</a>" not in page
        assert "All agents" not in page
        assert ">Bo</option>" not in page


def test_each_list_comes_a_page_at_a_time(
    client: FlaskClient, services: Services, seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.console.management.PAGE_SIZE", 1)
    owner = seeding.signed_in(client, services, OWNER)
    first = get(owner, "/management?from=2026-12-01")
    ongoing = section(first, "ongoing")
    assert ">Dana</a>" in ongoing
    link = re.search(r'href="(/management\?[^"]*ongoing_cursor=[^"]+)"', ongoing)
    assert link
    assert "from=2026-12-01" in link.group(1)

    second = section(get(owner, link.group(1).replace("&amp;", "&")), "ongoing")

    assert ">Carla</a>" in second
    assert ">Dana</a>" not in second
    assert "First page" in second


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0 s"),
        (45, "45 s"),
        (125, "2 min 5 s"),
        (3600, "1 h"),
        (3725, "1 h 2 min"),
        (90061, "1 d 1 h"),
    ],
)
def test_first_response_times_read_in_their_two_largest_units(
    app: Flask, seconds: int | None, text: str
) -> None:
    with app.test_request_context():
        assert duration_text(seconds) == text
