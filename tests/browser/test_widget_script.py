"""The website widget in chromium: a visitor on the demo page, the shipped flows, an agent in
the console.

The live server runs no engine workers: `settle()` runs the engine once the widget's request
has been answered. The browser's timers run on Playwright's clock, so the widget's next poll
happens when a test moves that clock (`poll`), never by waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, expect

from chat.models import Conversation
from engine.ports import ManualClock
from tests.browser.harness import (
    add_member,
    check_accessibility,
    on_paused_clock,
    open_widget,
    poll,
    screenshot,
    sign_in,
    snippet_page,
    widget_call,
    widget_log,
)
from web.services import Services

TITLE = "Acme Outdoor support"


@pytest.fixture
def settle(services: Services, owner_token: str) -> Callable[[], None]:
    """Let the engine do what is due now (the live server runs no workers)."""
    return services.settle


@pytest.fixture
def visitor(page: Page, settle: Callable[[], None]) -> Page:
    """The visitor's tab on the demo page, its timers on a paused clock."""
    return on_paused_clock(page, "/widget-demo")


@pytest.fixture
def agent(
    browser: Browser, browser_context_args: dict[str, Any], live_app: Flask, owner_token: str
) -> Iterator[Page]:
    """An agent signed in to the console in a browser context of their own."""
    add_member(live_app, "ana@example.com", "Ana Agent", role="admin")
    context = browser.new_context(**browser_context_args)
    agent = context.new_page()
    sign_in(agent, "ana@example.com")
    yield agent
    context.close()


def panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name=TITLE)


def log(page: Page) -> Locator:
    return widget_log(page, TITLE)


def test_a_visitor_meets_the_bot_then_an_agent_and_comes_back_to_it(
    visitor: Page, agent: Page, settle: Callable[[], None]
) -> None:
    start = open_widget(visitor)
    assert start.status == 201
    conversation = start.json()["conversation_id"]
    settle()
    poll(visitor)
    expect(log(visitor).get_by_role("heading", name="15% off your first order")).to_be_visible()

    with visitor.expect_response(widget_call("POST", "/inputs")):
        log(visitor).get_by_role("textbox", name="Email").fill("ben@example.com")
        log(visitor).get_by_role("button", name="Send my code").click()
    settle()
    poll(visitor)
    expect(log(visitor)).to_contain_text("Done! The code is on its way to ben@example.com.")
    expect(log(visitor).get_by_role("button", name="Send my code")).to_be_disabled()

    with visitor.expect_response(widget_call("POST", "/messages")):
        panel(visitor).get_by_role("textbox", name="Message").fill("Can I talk to a person?")
        panel(visitor).get_by_role("button", name="Send", exact=True).click()
    expect(log(visitor)).to_contain_text("Can I talk to a person?")
    settle()
    poll(visitor)
    expect(log(visitor)).to_contain_text("Sure, let me get a person for you.")

    agent.goto(f"/inbox/{conversation}")  # the agent answers in the console
    expect(agent.get_by_text("Can I talk to a person?")).to_be_visible()
    agent.get_by_label("Your reply").fill("Hi, Ana here. How can I help?")
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(agent.get_by_label("Your reply")).to_have_value("")
    poll(visitor)
    agents_reply = log(visitor).locator(".agent")
    expect(agents_reply).to_contain_text("Hi, Ana here. How can I help?")
    expect(agents_reply).to_contain_text("Agent")
    check_accessibility(visitor)
    screenshot(visitor, "widget")

    visitor.reload()
    again = open_widget(visitor)
    assert (again.status, again.json()["conversation_id"]) == (200, conversation)
    expect(log(visitor)).to_contain_text("Can I talk to a person?")
    expect(log(visitor)).to_contain_text("Hi, Ana here. How can I help?")


def test_the_bots_buttons_are_buttons_that_send_the_click(
    visitor: Page, clock: ManualClock, settle: Callable[[], None]
) -> None:
    open_widget(visitor)
    settle()
    clock.advance(16 * 60)  # the visitor stays quiet: the win-back flow nudges them
    settle()
    poll(visitor)
    person = log(visitor).get_by_role("button", name="Talk to a person")
    expect(log(visitor).get_by_role("button", name="Get a coupon")).to_be_visible()

    with visitor.expect_response(widget_call("POST", "/clicks")):
        person.click()
    settle()
    poll(visitor)
    expect(log(visitor)).to_contain_text("Connecting you with a person now.")
    expect(person).to_have_attribute("aria-pressed", "true")
    expect(log(visitor).get_by_role("button", name="Get a coupon")).to_be_disabled()
    expect(panel(visitor).get_by_role("textbox", name="Message")).to_be_focused()


def test_the_widget_works_from_the_keyboard_alone(visitor: Page) -> None:
    launcher = visitor.get_by_role("button", name="Chat with us")
    for _ in range(10):  # the launcher comes after the page's own controls
        visitor.keyboard.press("Tab")
        if launcher.evaluate("b => b.getRootNode().activeElement === b"):
            break
    expect(launcher).to_be_focused()

    with visitor.expect_response(widget_call("POST", "/widget/conversations")):
        visitor.keyboard.press("Enter")
    expect(panel(visitor)).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    message = panel(visitor).get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    visitor.keyboard.type("Hello from the keyboard")
    with visitor.expect_response(widget_call("POST", "/messages")):
        visitor.keyboard.press("Enter")
    expect(log(visitor)).to_contain_text("Hello from the keyboard")
    expect(message).to_have_value("")

    visitor.keyboard.press("Escape")
    expect(panel(visitor)).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_the_page_styles_do_not_reach_the_widget(visitor: Page) -> None:
    visitor.add_style_tag(content="button { background: red !important; font-size: 40px; }")
    launcher = visitor.get_by_role("button", name="Chat with us")
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 95, 191)"
    assert launcher.evaluate("b => getComputedStyle(b).fontSize") == "15px"


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_a_chinese_visitor_reads_the_widget_in_chinese(visitor: Page) -> None:
    expect(visitor.get_by_role("heading", name="嵌入到你的网站")).to_be_visible()
    with visitor.expect_response(widget_call("POST", "/widget/conversations")):
        visitor.get_by_role("button", name="在线咨询").click()
    dialog = visitor.get_by_role("dialog", name="Acme Outdoor 客服")
    expect(dialog.get_by_role("textbox", name="消息")).to_be_focused()
    expect(dialog.get_by_role("button", name="发送")).to_be_visible()
    expect(dialog.get_by_role("button", name="关闭对话")).to_be_visible()
    check_accessibility(visitor)


def test_a_website_may_tell_the_widget_its_visitors_name(
    page: Page, live_server: str, live_app: Flask, settle: Callable[[], None]
) -> None:
    shop = f"{live_server}/shop"  # a page of Parley's own origin that Parley does not serve
    snippet = snippet_page("/widget.js", 'data-parley-name="Ben Visitor"')
    page.route(shop, lambda route: route.fulfill(content_type="text/html", body=snippet))
    page.goto(shop)

    start = open_widget(page)

    with live_app.extensions["parley"].sessions() as session:
        conversation = session.get(Conversation, start.json()["conversation_id"])
        assert conversation is not None
        assert conversation.contact.name == "Ben Visitor"
    expect(page.get_by_role("dialog", name="Chat with us")).to_be_visible()


@pytest.fixture
def other_origin(live_server: str) -> Iterator[str]:
    """A website at another origin (another loopback port) whose page embeds the widget."""
    body = snippet_page(f"{live_server}/widget.js").encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_on_another_origin_without_cors_the_widget_says_the_chat_is_unavailable(
    page: Page, other_origin: str, settle: Callable[[], None]
) -> None:
    page.goto(other_origin)

    page.get_by_role("button", name="Chat with us").click()

    expect(page.get_by_role("alert")).to_have_text(
        "The chat is not available right now. Please try again later."
    )
