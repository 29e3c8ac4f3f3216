"""Conversation management in a browser: an agent narrows the counts and lists by agent and
day, reads the figures, and sees a visitor's new message counted live; own-data agents see
only theirs; in English and Chinese."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from tests import seeding
from tests.browser.harness import OWNER, add_member, check_accessibility, screenshot, sign_in
from web.services import Services

DAY = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def seeded(live_app: Flask, services: Services) -> dict[str, Any]:
    """Olga (owner), Ada and Bo (agents, their own only); Carla (Jan 1, Ada's, answered after
    2 min 5 s), Ben (Jan 2, Bo's, ended) and Dana (Jan 3, nobody's, no message yet): Bo's id,
    Dana's conversation and visitor token."""
    found = services
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    ada = add_member(live_app, "ada@example.com", "Ada")
    bo = add_member(live_app, "bo@example.com", "Bo")
    carla, token = seeding.visitor(found, "Carla", DAY)
    seeding.assigned(found, carla, ada, DAY)
    seeding.visitor_writes(found, token, carla, DAY)
    seeding.agent_replies(found, ada, carla, DAY + timedelta(seconds=125))
    ben, _ = seeding.visitor(found, "Ben", DAY + timedelta(days=1))
    seeding.assigned(found, ben, bo, DAY + timedelta(days=1))
    seeding.ended(found, ben, DAY + timedelta(days=1, hours=1))
    dana, dana_token = seeding.visitor(found, "Dana", DAY + timedelta(days=2))
    return {"bo": bo, "dana": dana, "dana_token": dana_token}


def live(page: Page) -> AbstractContextManager[object]:
    """Around what loads a page: wait until its live stream is open."""
    return page.expect_response(lambda response: response.url.endswith("/live"))


def count(page: Page, name: str) -> Locator:
    return page.locator(f"#count-{name}")


def row(page: Page, name: str) -> Locator:
    return page.locator("tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


def test_an_agent_narrows_management_by_agent_and_day_and_hears_new_messages_live(
    page: Page, services: Services, seeded: dict[str, Any]
) -> None:
    sign_in(page, OWNER)
    with live(page):
        page.goto("/management")
    expect(count(page, "total")).to_have_text("3")
    expect(count(page, "ongoing")).to_have_text("2")
    expect(count(page, "ended")).to_have_text("1")
    expect(row(page, "Carla").locator("td")).to_have_text(
        ["Ada", "2026-01-01 09:00 UTC", "2", "1", "1", "2 min 5 s"]
    )
    expect(row(page, "Dana").locator("td").last).to_have_text("—")
    expect(page.locator("#list-ended").get_by_role("link", name="Ben")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "management")

    page.get_by_label("Agent").select_option(label="Bo")
    expect(count(page, "total")).to_have_text("1")
    expect(count(page, "ended")).to_have_text("1")
    expect(page).to_have_url(re.compile(r"agent=\d+"))
    expect(row(page, "Carla")).to_have_count(0)

    page.get_by_label("Agent").select_option(label="All agents")
    page.get_by_label("Received from").fill("2026-01-02")
    expect(count(page, "total")).to_have_text("2")
    page.get_by_label("Received to").fill("2026-01-02")
    expect(count(page, "total")).to_have_text("1")
    expect(row(page, "Ben")).to_be_visible()

    page.get_by_label("Received to").fill("2026-01-01")  # before the first day
    expect(page.get_by_text("The last day is before the first day.")).to_be_visible()
    expect(page.get_by_label("Received to")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)

    with live(page):
        page.goto("/management")
    cells = row(page, "Dana").locator("td")
    expect(cells.nth(2)).to_have_text("0")
    at = DAY + timedelta(days=2, minutes=1)
    seeding.visitor_writes(services, seeded["dana_token"], seeded["dana"], at)
    expect(cells.nth(2)).to_have_text("1")  # messages
    expect(cells.nth(3)).to_have_text("1")  # from the visitor


def test_an_agent_without_view_all_manages_only_their_own(
    page: Page, services: Services, seeded: dict[str, Any]
) -> None:
    sign_in(page, "ada@example.com")
    page.goto("/management")

    expect(count(page, "total")).to_have_text("1")
    expect(page.get_by_label("Agent").locator("option")).to_have_text(["Ada"])
    expect(row(page, "Carla")).to_be_visible()
    expect(row(page, "Ben")).to_have_count(0)
    page.goto(f"/management?agent={seeded['bo']}")  # asking for Bo's still shows her own
    expect(count(page, "total")).to_have_text("1")
    expect(row(page, "Carla")).to_be_visible()
    check_accessibility(page)


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_management_speaks_chinese(
    page: Page, live_server: str, services: Services, seeded: dict[str, Any]
) -> None:
    seeding.signed_in_browser(page, live_server, services, OWNER)
    page.goto("/management")

    expect(page.get_by_role("heading", name="会话管理")).to_be_visible()
    expect(page.get_by_label("客服")).to_have_value("")
    expect(row(page, "Carla").locator("td").last).to_have_text("2 分 5 秒")
    check_accessibility(page)
