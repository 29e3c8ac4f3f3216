"""The conversation page in a real browser: an agent answers, acts, edits the customer, with
the keyboard; another agent's page follows live; Messenger's closed window; Chinese."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from engine.ports import ManualClock
from tests.browser.harness import (
    OWNER,
    PASSWORD,
    add_member,
    check_accessibility,
    screenshot,
    sign_in,
)
from tests.web.test_console_conversation import allow_tags, messenger_conversation

# Marks a page once its live stream is open: until then, what others do cannot reach it.
LISTENING = """document.addEventListener("htmx:sse:after:connection", () => {
  document.documentElement.dataset.testLive = "open";
});"""
Visitor = tuple[int, dict[str, str]]  # a widget conversation's id, and its visitor's headers


def start_visitor(page: Page, text: str) -> Visitor:
    """A website visitor starts a conversation through the widget's API and writes `text`."""
    started = page.request.post("/widget/conversations", data={"name": "Wanda Visitor"}).json()
    headers = {"X-Visitor-Token": started["visitor_token"]}
    visitor: Visitor = (started["conversation_id"], headers)
    write(page, visitor, text)
    return visitor


def write(page: Page, visitor: Visitor, text: str) -> None:
    """The visitor writes another message."""
    conversation_id, headers = visitor
    path = f"/widget/conversations/{conversation_id}/messages"
    assert page.request.post(path, data={"text": text}, headers=headers).ok


def visitor_sees(page: Page, visitor: Visitor) -> list[tuple[str, str]]:
    """What the visitor's widget reads: (sender, text) of each message."""
    conversation_id, headers = visitor
    path = f"/widget/conversations/{conversation_id}/messages"
    found = page.request.get(path, headers=headers).json()["messages"]
    return [(message["sender"], message["text"]) for message in found]


def open_as_owner(page: Page, live_app: Flask, text: str) -> Visitor:
    """A visitor writes `text`; the owner signs in and opens the conversation."""
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    visitor = start_visitor(page, text)
    sign_in(page, OWNER)
    page.goto(f"/inbox/{visitor[0]}")
    expect(page.get_by_role("heading", name="Wanda Visitor", level=1)).to_be_visible()
    return visitor


def test_an_agent_replies_assigns_tags_switches_hosting_and_ends_from_the_keyboard(
    live_server: str, live_app: Flask, page: Page
) -> None:
    add_member(live_app, "arne@example.com", "Arne Agent")
    visitor = open_as_owner(page, live_app, "Hello, is anyone there?")
    expect(page.locator("#messages")).to_contain_text("Hello, is anyone there?")
    check_accessibility(page)

    page.keyboard.press("Alt+Shift+R")
    expect(page.get_by_label("Your reply")).to_be_focused()
    page.keyboard.type("Hi Wanda, how can I help?")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".from-agent")).to_contain_text("Hi Wanda, how can I help?")
    expect(page.get_by_label("Your reply")).to_have_value("")
    assert ("agent", "Hi Wanda, how can I help?") in visitor_sees(page, visitor)

    page.keyboard.press("Alt+Shift+A")
    expect(page.get_by_label("Assigned to")).to_be_focused()
    page.get_by_label("Assigned to").select_option(label="Arne Agent")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    header = page.locator("#conversation-header")
    expect(header).to_contain_text("Assigned to Arne Agent")

    page.keyboard.press("Alt+Shift+H")
    expect(page.get_by_role("button", name="Bot hosting")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(header).to_contain_text("Agents answer")

    for tag in ("refund", "vip"):
        page.keyboard.press("Alt+Shift+T")
        page.keyboard.type(tag)
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name=f"Remove tag {tag}")).to_be_visible()
    page.get_by_role("button", name="Remove tag refund").click()
    expect(page.get_by_role("button", name="Remove tag refund")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove tag vip")).to_be_visible()
    screenshot(page, "conversation")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="End conversation").click()
    expect(page.get_by_text("This conversation ended")).to_be_focused()
    expect(page.locator("#reply")).to_contain_text("it takes no more replies")
    expect(header).to_contain_text("Ended")


def test_an_agent_edits_the_customer_inline_and_a_bad_phone_is_explained_at_the_field(
    live_server: str, live_app: Flask, page: Page
) -> None:
    open_as_owner(page, live_app, "Hello, is anyone there?")
    page.keyboard.press("Alt+Shift+E")
    expect(page.get_by_label("Remark name", exact=True)).to_be_focused()
    page.keyboard.type("Wanda from Leeds")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wanda from Leeds")
    expect(page.get_by_role("button", name="Edit Remark name")).to_be_focused()

    page.get_by_role("button", name="Edit Phone").click()
    phone = page.get_by_label("Phone", exact=True)
    phone.fill("12345")
    page.keyboard.press("Enter")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#contact-phone-error")).to_have_text(
        "This is not a phone number: write + and the country code, then the number"
        " (such as +44 20 7946 0958)."
    )
    expect(phone).to_have_accessible_description(re.compile("This is not a phone number"))
    check_accessibility(page)
    phone.fill("+44 20 7946 0958")
    page.keyboard.press("Enter")
    expect(page.locator("#field-phone")).to_contain_text("+442079460958")

    page.get_by_role("button", name="Edit Email").click()
    page.get_by_label("Email", exact=True).fill("wanda@example")
    page.keyboard.press("Escape")
    expect(page.locator("#field-email")).to_contain_text("Not set")
    page.get_by_role("button", name="Edit Email").click()
    page.get_by_label("Email", exact=True).fill("wanda@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#field-email")).to_contain_text("wanda@example.com")


def test_another_agent_s_page_follows_the_customer_and_new_messages_live(
    live_server: str, live_app: Flask, page: Page, browser: Browser
) -> None:
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    add_member(live_app, "ada@example.com", "Ada Admin", role="admin")
    visitor = start_visitor(page, "My parcel is late")
    other = browser.new_context(base_url=live_server)
    try:
        watching = other.new_page()
        watching.add_init_script(LISTENING)
        sign_in(watching, "ada@example.com")
        watching.goto(f"/inbox/{visitor[0]}")
        expect(watching.locator("html")).to_have_attribute("data-test-live", "open")
        expect(watching.locator("#messages")).to_contain_text("My parcel is late")
        sign_in(page, OWNER)
        page.goto(f"/inbox/{visitor[0]}")

        page.get_by_role("button", name="Edit Remark name").click()
        page.get_by_label("Remark name", exact=True).fill("Late parcel")
        page.get_by_role("button", name="Save").click()
        expect(watching.get_by_role("heading", level=1)).to_have_text("Late parcel")
        expect(watching.locator("#field-remark_name")).to_contain_text("Late parcel")

        write(page, visitor, "It was due on Monday")
        expect(watching.locator("#messages")).to_contain_text("It was due on Monday")
        expect(watching.locator("#announcer")).to_have_text(
            "New message from Late parcel: It was due on Monday"
        )
    finally:
        other.close()


def test_past_7_days_on_messenger_the_window_is_closed_and_the_reply_needs_a_tag(
    live_server: str, live_app: Flask, page: Page, clock: ManualClock
) -> None:
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    services = live_app.extensions["parley"]
    allow_tags(services, "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE")
    conversation_id = messenger_conversation(services, services.now())
    clock.advance(timedelta(days=8).total_seconds())
    sign_in(page, OWNER)
    page.goto(f"/inbox/{conversation_id}")
    expect(page.locator("#window-state")).to_contain_text("Reply window closed since")
    expect(page.locator("#window-state")).to_contain_text("choose one below")
    page.get_by_label("Your reply").fill("Your order has shipped")
    page.get_by_role("button", name="Send").click()
    tag = page.get_by_label("Message tag")
    expect(tag).to_have_attribute("aria-invalid", "true")
    expect(tag).to_have_accessible_description(
        re.compile("Messenger's reply window has closed, so this reply was not sent")
    )
    expect(page.get_by_label("Your reply")).to_have_value("Your order has shipped")
    check_accessibility(page)

    tag.select_option(label="Post-purchase update")
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".from-agent")
    expect(sent).to_contain_text("Your order has shipped")
    expect(sent).to_contain_text("Waiting to be sent")
    expect(sent).to_contain_text("Tag: Post-purchase update")


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_the_conversation_page_speaks_chinese(
    live_server: str, live_app: Flask, page: Page
) -> None:
    add_member(live_app, OWNER, "Olga Owner", role="owner")
    visitor = start_visitor(page, "你好")
    page.goto("/signin")
    page.get_by_label("邮箱").fill(OWNER)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"/inbox/{visitor[0]}")
    expect(page.get_by_role("heading", name="键盘快捷键")).to_be_visible()
    page.get_by_role("button", name="编辑电话").click()
    page.get_by_label("电话", exact=True).fill("12345")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#contact-phone-error")).to_contain_text("这不是电话号码")
    page.get_by_role("button", name="发送").click()
    expect(page.locator("#reply-error")).to_contain_text("回复需要填写内容")
