"""The inbox in a browser: an agent signs in, switches tabs and status, hears visitors arrive
live, reads rows their own way, and does it all from the keyboard; in English and Chinese."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from chat.members import update_list_settings
from chat.models import Member
from engine.ports import ManualClock
from tests.browser.harness import check_accessibility, screenshot, sign_in
from tests.inbox_team import Team


@pytest.fixture
def team(live_app: Flask, clock: ManualClock) -> Team:
    """Olga (owner), Ana (sees all), Ben (sees his own); Carla wrote 12 minutes ago and Ana
    answered, Dan (nobody's, on Messenger) 4 minutes ago, Ben's Eve just now."""
    team = Team(live_app)
    team.member("Ana", permissions=["conversations.view_all"])
    team.member("Ben")
    team.visitor("Carla", "Where is my parcel?", assignee="Ana")
    team.reply(1, "Ana", "It left our warehouse this morning.")
    clock.advance(8 * 60)
    team.visitor("Dan", "Hello", channel="messenger", remark="Dan the VIP", tags=["vip"])
    clock.advance(4 * 60)
    team.visitor("Eve", "Refund please", assignee="Ben")
    return team


def signed_in(page: Page, team: Team, name: str) -> None:
    """Sign in at the sign-in page as the member `name` would; the inbox opens."""
    sign_in(page, team.password(name))


def tab(page: Page, name: str) -> Locator:
    """The link of the tab `name` (mine, unassigned, all)."""
    return page.locator(f"#tab-{name}")


def rows(page: Page) -> Locator:
    """The links of the rows, in their order."""
    return page.locator("#inbox-live .row-link")


def live(page: Page) -> AbstractContextManager[object]:
    """Around what loads a page: wait until its live stream is open (it subscribes first),
    so a notice sent after this is not missed."""
    return page.expect_response(lambda response: response.url.endswith("/live"))


def test_an_agent_switches_tabs_and_status_and_hears_visitors_arrive_live(
    page: Page, team: Team
) -> None:
    signed_in(page, team, "Ana")
    expect(tab(page, "mine")).to_have_text("Mine 1")
    expect(tab(page, "mine")).to_have_attribute("aria-current", "page")
    expect(tab(page, "unassigned")).to_have_text("Unassigned 1")
    expect(tab(page, "all")).to_have_text("All 3")
    carla = page.locator("#row-1")
    expect(rows(page)).to_have_count(1)
    expect(carla.locator(".preview")).to_have_text("You: It left our warehouse this morning.")
    expect(carla.locator(".when")).to_have_text("12 minutes ago")
    expect(carla.locator(".badge")).to_have_count(0)  # answered: nothing waits for a reply
    check_accessibility(page)

    tab(page, "all").click()
    expect(page).to_have_url(re.compile(r"tab=all&status=ongoing"))
    expect(rows(page).locator(".name")).to_have_text(["Eve", "Dan the VIP", "Carla"])

    page.get_by_role("link", name="Ended").click()
    expect(page).to_have_url(re.compile(r"tab=all&status=ended"))
    expect(page.get_by_text("No conversations in this view.")).to_be_visible()
    with live(page):
        page.get_by_role("link", name="Ongoing").click()
    expect(rows(page)).to_have_count(3)

    started = page.request.post("/widget/conversations", data={"name": "Fay"})
    assert started.ok
    announced = page.locator("#inbox-announce")
    expect(announced).to_have_text("1 new conversation")
    expect(tab(page, "all")).to_have_text("All 4")
    fay = page.locator(f"#row-{started.json()['conversation_id']}")
    expect(fay.locator(".preview")).to_have_text("No messages yet")

    path = f"/widget/conversations/{started.json()['conversation_id']}/messages"
    token = {"X-Visitor-Token": started.json()["visitor_token"]}
    assert page.request.post(path, data={"text": "Do you ship to Lisbon?"}, headers=token).ok
    expect(announced).to_have_text("New message from Fay")
    expect(fay.locator(".preview")).to_have_text("Do you ship to Lisbon?")
    expect(fay.locator(".badge")).to_have_text("1 unread")
    expect(rows(page).first).to_have_id(f"conversation-{started.json()['conversation_id']}")
    check_accessibility(page)
    screenshot(page, "inbox")


def test_the_inbox_works_from_the_keyboard_and_keeps_focus_through_live_updates(
    page: Page, team: Team
) -> None:
    signed_in(page, team, "Olga")  # she has none assigned: Unassigned opens
    expect(tab(page, "unassigned")).to_have_attribute("aria-current", "page")
    with live(page):
        page.keyboard.press("Alt+A")
    expect(page).to_have_url(re.compile(r"tab=all&status=ongoing"))
    page.get_by_text("Keyboard shortcuts", exact=True).and_(page.locator("summary")).click()
    shortcuts = page.get_by_role("table", name="Keyboard shortcuts")
    expect(shortcuts.get_by_role("row", name=re.compile("Next conversation"))).to_be_visible()
    check_accessibility(page)
    page.keyboard.press("Alt+J")  # after a mouse click: browsers may hide a script's focus
    expect(rows(page).nth(0)).to_be_focused()
    expect(rows(page).nth(0)).to_have_css("outline-style", "solid")
    page.keyboard.press("Alt+J")
    expect(rows(page).nth(1)).to_be_focused()
    page.keyboard.press("Alt+J")
    page.keyboard.press("Alt+K")
    expect(rows(page).nth(1)).to_be_focused()

    team.write(3, "Still waiting for my refund")  # Eve's row moves nothing: it is first
    expect(page.locator("#inbox-announce")).to_have_text("New message from Eve")
    expect(page.locator("#conversation-2")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox/2$"))
    page.go_back()
    page.keyboard.press("Alt+O")
    expect(page).to_have_url(re.compile(r"tab=all&status=ended"))
    page.keyboard.press("Alt+M")
    expect(page).to_have_url(re.compile(r"tab=mine&status=ended"))


def test_an_own_data_agent_has_no_all_tab(page: Page, team: Team) -> None:
    signed_in(page, team, "Ben")
    expect(tab(page, "mine")).to_have_text("Mine 1")
    expect(tab(page, "unassigned")).to_have_text("Unassigned 0")
    expect(page.get_by_role("link", name=re.compile("^All"))).to_have_count(0)
    expect(rows(page).locator(".name")).to_have_text(["Eve"])


def test_rows_follow_the_agents_remark_name_and_visitor_tag_settings(
    page: Page, team: Team
) -> None:
    signed_in(page, team, "Olga")
    dan = page.locator("#row-2")
    expect(dan.locator(".name")).to_have_text("Dan the VIP")
    expect(dan.locator(".tag")).to_have_text(["vip"])
    expect(dan.get_by_role("img", name="Messenger")).to_be_visible()

    with team.begin() as session:
        olga = session.get(Member, team.members["Olga"])
        assert olga is not None
        update_list_settings(session, olga, prefer_remark_name=False, show_visitor_tags=False)
    page.reload()
    expect(dan.locator(".name")).to_have_text("Dan")
    expect(dan.locator(".tag")).to_have_count(0)


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_the_inbox_speaks_chinese(
    page: Page, team: Team, clock: ManualClock, live_server: str
) -> None:
    clock.advance(180)
    token = team.session_token("Ana")  # signed in (the sign-in page has its own tests)
    page.context.add_cookies([{"name": "parley_session", "value": token, "url": live_server}])
    page.goto("/inbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("收件箱")
    expect(tab(page, "mine")).to_have_text("我的 1")
    expect(page.locator("#row-1 .when")).to_have_text("15分钟前")
    you = "你\uff1a"  # "You: " with the full-width colon of Chinese
    expect(page.locator("#row-1 .preview")).to_have_text(
        f"{you}It left our warehouse this morning."
    )
    expect(page.locator("details.shortcuts summary")).to_have_text("键盘快捷键")
    check_accessibility(page)
