"""Contacts in a browser: an agent finds contacts by remark name and by search, follows one to
their conversation, and sees another agent's edit arrive live; in English and Chinese."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from chat.contacts import edit_contact
from chat.models import Contact, Member
from tests import seeding
from tests.browser.harness import OWNER, add_member, check_accessibility, screenshot, sign_in
from web.services import Services

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def carla(live_app: Flask, services: Services) -> int:
    """Olga (owner); visitors Carla Diaz ("Carla (wholesale)"), Carl Berg ("Carl") and Dana;
    Carla's conversation."""
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    conversation, _ = seeding.visitor(services, "Carla Diaz", T0, remark="Carla (wholesale)")
    at = T0 + timedelta(minutes=2)
    seeding.visitor(services, "Carl Berg", T0 + timedelta(minutes=1), remark="Carl")
    seeding.visitor(services, "Dana", at, email="dana@example.com", phone="+442079460958")
    return conversation


def names(page: Page) -> Locator:
    """The names in the contact list, in its order."""
    return page.locator("#contact-results tbody th")


def test_an_agent_finds_contacts_by_remark_name_and_search_and_sees_edits_live(
    page: Page, services: Services, carla: int
) -> None:
    sign_in(page, OWNER)
    with page.expect_response(lambda response: response.url.endswith("/live")):
        page.goto("/people")
    expect(names(page)).to_have_text(["Dana", "Carl", "Carla (wholesale)"])
    expect(page.get_by_role("link", name="Carla (wholesale)")).to_have_attribute(
        "href", f"/inbox/{carla}"
    )
    check_accessibility(page)
    screenshot(page, "contacts")

    page.get_by_label("Remark name", exact=True).fill("carl")
    expect(names(page)).to_have_text(["Carl", "Carla (wholesale)"])
    expect(page).to_have_url(re.compile(r"remark=carl"))
    page.get_by_label("Remark name", exact=True).fill("Carl")
    page.get_by_label("Whole remark name only").check()  # exactly, as it is written
    expect(names(page)).to_have_text(["Carl"])
    page.get_by_label("Remark name", exact=True).fill("")
    page.get_by_label("Whole remark name only").uncheck()
    page.get_by_label("Search").fill("dana")
    page.keyboard.press("Enter")
    expect(names(page)).to_have_text(["Dana"])
    page.get_by_label("Search").fill("zzz")
    expect(page.get_by_text("No contact matches these filters.")).to_be_visible()
    check_accessibility(page)

    page.get_by_label("Search").fill("")
    expect(names(page)).to_have_count(3)
    with services.outbox.transaction() as session:  # another agent gives Dana a remark name
        owner = session.scalars(select(Member).where(Member.role == "owner")).one()
        dana = session.scalars(select(Contact.id).where(Contact.name == "Dana")).one()
        edit_contact(session, owner, dana, remark_name="Dana (press)")
    expect(names(page).first).to_have_text("Dana (press)")


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_contacts_speak_chinese(
    page: Page, live_server: str, services: Services, carla: int
) -> None:
    seeding.signed_in_browser(page, live_server, services, OWNER)
    page.goto("/people")

    expect(page.get_by_role("heading", name="联系人", exact=True)).to_be_visible()
    expect(page.get_by_role("columnheader", name="备注名")).to_be_visible()
    expect(page.locator("#contact-results tbody td").nth(3)).to_have_text("网站插件")
    check_accessibility(page)
