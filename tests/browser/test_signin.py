"""Signing in to the console in a real browser: the owner's first password, sign-in, sign-out."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from server import first_start
from tests.browser.harness import (
    OWNER,
    PASSWORD,
    add_member,
    check_accessibility,
    screenshot,
    sign_in,
)


def test_the_owner_sets_their_password_through_the_first_start_link(
    live_server: str, live_app: Flask, page: Page
) -> None:
    first = first_start(live_app.extensions["parley"])
    assert first is not None
    page.goto(first.password_link.removeprefix("http://127.0.0.1:8000"))
    expect(page.get_by_text(f"You sign in as {OWNER}.")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def test_a_member_signs_in_and_out(live_server: str, live_app: Flask, page: Page) -> None:
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    page.goto("/signin")
    check_accessibility(page)
    screenshot(page, "signin")
    sign_in(page, OWNER)
    expect(page.get_by_role("link", name="Inbox")).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Parley")).to_be_visible()
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/signin\?next=/inbox$"))


def test_a_wrong_password_is_explained_at_the_form(
    live_server: str, live_app: Flask, page: Page
) -> None:
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    page.goto("/signin")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("This email and password do not match a member.")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_a_chinese_browser_gets_the_sign_in_page_in_chinese(live_server: str, page: Page) -> None:
    page.goto("/signin")
    expect(page.get_by_role("heading", name="登录 Parley")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_the_language_switch_shows_the_console_in_chinese(live_server: str, page: Page) -> None:
    page.goto("/signin")
    page.get_by_label("Language").select_option("zh_CN")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="登录 Parley")).to_be_visible()
