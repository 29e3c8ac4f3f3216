"""Flow analytics in the browser: figures, the funnel read as text, the visitors filtered by
status, their CSV, and an avatar that opens the visitor's chat."""

from __future__ import annotations

import csv
import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from chat.signin import sign_in
from engine.ports import ManualClock
from tests.browser.harness import OWNER, PASSWORD, add_member, check_accessibility, screenshot
from web.console.base import SESSION_COOKIE


@pytest.fixture
def signed_in(live_app: Flask, live_server: str, page: Page) -> Page:
    """The page, signed in as the workspace's owner (by cookie: the sign-in page's labels
    are in the browser's language, and this works in any)."""
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    services = live_app.extensions["parley"]
    with services.sessions.begin() as session:
        _, token = sign_in(session, OWNER, PASSWORD, services.now())
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server}])
    return page


@pytest.fixture
def visitors(live_app: Flask, signed_in: Page, clock: ManualClock) -> Page:
    """Three new website visitors of the promo card, 20 minutes apart: one fills it, one
    answers it wrongly, one leaves it; the engine has run everything they caused."""
    for name, email in (("Carla Díaz", "carla@example.com"), ("Bo Li", "oops"), ("Ana Ruiz", "")):
        clock.advance(20 * 60)  # the card's 2-hour timeout stays far off
        started = signed_in.request.post("/widget/conversations", data={"name": name}).json()
        live_app.extensions["parley"].settle()
        if email:
            signed_in.request.post(
                f"/widget/conversations/{started['conversation_id']}/inputs",
                data={"text": email},
                headers={"X-Visitor-Token": started["visitor_token"]},
            )
    live_app.extensions["parley"].settle()
    return signed_in


def test_an_agent_reads_a_flows_figures_filters_its_visitors_and_opens_a_chat(
    visitors: Page,
) -> None:
    page = visitors
    page.goto("/analytics")
    promo = page.get_by_role("row", name=re.compile("Spring promo"))
    expect(promo).to_contain_text("66.7%")
    expect(promo.get_by_role("cell").nth(1)).to_have_text("3")  # the trigger count
    check_accessibility(page)

    promo.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Spring promo for new website visitors"
    )
    funnel = page.get_by_role("list", name="Funnel per step").get_by_role("listitem")
    expect(funnel).to_have_text(
        [
            re.compile(r"card\s+3 entered, 100.0% of triggered, 0.0% dropped off"),
            re.compile(r"thanks\s+1 entered, 33.3% of triggered, 66.7% dropped off"),
            re.compile(r"skipped\s+0 entered, 0.0% of triggered, 100.0% dropped off"),
        ]
    )
    check_accessibility(page)
    screenshot(page, "analytics")

    page.get_by_role("navigation", name="Filter visitors by status").get_by_role(
        "link", name="Engaged", exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"status=engaged"))
    engaged = page.get_by_role("table", name=re.compile("Visitors with the status"))
    rows = engaged.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bo Li")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these visitors as CSV").click()
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    table = list(csv.DictReader(lines))
    assert [(r["name"], r["status"], r["triggers"]) for r in table] == [("Bo Li", "engaged", "1")]

    page.get_by_role("link", name="Open the chat with Bo Li").click()
    expect(page).to_have_url(re.compile(rf"/inbox/{table[0]['conversation_id']}$"))


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_the_analytics_speak_chinese(visitors: Page) -> None:
    visitors.goto("/analytics/promo-card")
    expect(visitors.get_by_role("heading", name="各步骤漏斗")).to_be_visible()
    expect(visitors.get_by_role("link", name="将这些访客下载为 CSV")).to_be_visible()
    check_accessibility(visitors)
