"""Bot hosting in a browser: an agent switches two chosen conversations off, selects a whole
page, confirms "all assigned" in a dialog that names the count, and reads each result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from tests import seeding
from tests.browser.harness import OWNER, add_member, check_accessibility, screenshot, sign_in
from web.services import Services

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def carla(live_app: Flask, services: Services) -> tuple[int, str]:
    """Olga (owner) and Ada (agent); Carla and Ben are Ada's, Dana nobody's: all hosted.
    Carla's conversation and visitor token."""
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    ada = add_member(live_app, "ada@example.com", "Ada")
    made = {}
    for minute, name in enumerate(("Carla", "Ben", "Dana")):
        made[name] = seeding.visitor(services, name, T0 + timedelta(minutes=minute))
        if name != "Dana":
            seeding.assigned(services, made[name][0], ada, T0)
    return made["Carla"]


def row(page: Page, name: str) -> Locator:
    return page.locator("#hosting-list tbody tr").filter(has=page.get_by_role("link", name=name))


def hosting(page: Page, name: str) -> Locator:
    """The bot-hosting cell of the row of `name`."""
    return row(page, name).locator(".hosting-state")


def result(page: Page) -> Locator:
    return page.get_by_role("status")


def test_an_agent_switches_chosen_conversations_then_all_assigned_after_confirming(
    page: Page, services: Services, carla: tuple[int, str]
) -> None:
    sign_in(page, OWNER)
    with page.expect_response(lambda response: response.url.endswith("/live")):
        page.goto("/bot-hosting")
    expect(hosting(page, "Carla")).to_have_text("On")
    check_accessibility(page)

    page.get_by_label("Select Ben").check()  # then Carla writes: the list changes live
    seeding.visitor_writes(services, carla[1], carla[0], T0 + timedelta(minutes=10))
    expect(row(page, "Carla").locator("time")).to_have_text("2026-01-01 09:10 UTC")
    expect(page.get_by_label("Select Ben")).to_be_checked()
    page.get_by_label("Select Ben").uncheck()

    page.get_by_label("Select Carla").check()
    page.get_by_label("Select Dana").check()
    expect(page.get_by_label("Select all on this page")).to_have_js_property("indeterminate", True)
    page.get_by_role("button", name="Hosting off", exact=True).click()
    expect(result(page)).to_have_text("Hosting switched off for 2 conversations.")
    expect(hosting(page, "Carla")).to_have_text("Off")
    expect(hosting(page, "Dana")).to_have_text("Off")
    expect(hosting(page, "Ben")).to_have_text("On")

    page.get_by_label("Select all on this page").check()
    expect(page.get_by_label("Select Ben")).to_be_checked()
    page.get_by_role("button", name="Hosting on", exact=True).click()
    expect(result(page)).to_have_text("Hosting switched on for 2 conversations.")
    expect(hosting(page, "Carla")).to_have_text("On")

    opener = page.get_by_role("button", name="Switch all assigned off…")
    opener.click()
    dialog = page.get_by_role(
        "dialog", name="Switch bot hosting off for all assigned conversations?"
    )
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This changes 2 conversations.")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    check_accessibility(page)
    screenshot(page, "hosting")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    expect(hosting(page, "Ben")).to_have_text("On")

    opener.click()
    dialog.get_by_role("button", name="Switch off").click()
    expect(dialog).to_be_hidden()
    expect(result(page)).to_have_text("Hosting switched off for 2 conversations.")
    expect(hosting(page, "Carla")).to_have_text("Off")
    expect(hosting(page, "Ben")).to_have_text("Off")
    expect(hosting(page, "Dana")).to_have_text("On")  # nobody's: not among the assigned


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_bot_hosting_speaks_chinese(
    page: Page, live_server: str, services: Services, carla: tuple[int, str]
) -> None:
    seeding.signed_in_browser(page, live_server, services, OWNER)
    page.goto("/bot-hosting")

    expect(page.get_by_role("heading", name="机器人托管", exact=True)).to_be_visible()
    page.get_by_role("button", name="关闭托管", exact=True).click()
    expect(result(page)).to_have_text("请至少选择一个会话。")
    page.get_by_role("button", name="开启所有已分配会话的托管…").click()
    expect(page.get_by_role("dialog")).to_contain_text("没有需要更改的已分配会话。")
    check_accessibility(page)
