"""The website widget shows every text it is given as text, never as markup.

tests/web/test_escaping.py covers the HTML Parley's server writes; this module covers the
DOM the widget builds itself, in chromium, inside its shadow root. A visitor on a website
writes attack strings; an agent answers with them (through the JSON API); flows carry them
in a bot's message and its buttons, an ask's choices and a promo card; the website passes
them as the visitor's name (which a flow greets them by) and as the panel's title. Each
time the attack appears as the visible text and nothing ran:

- no `<script>`, `<img>` or `<svg>` element appeared in the widget's DOM (besides the
  launcher's icon and a promo card's own picture),
- no JavaScript dialog opened (the payloads call `alert`),
- `window.__pwned`, which the payloads' event handlers would set, stays undefined.

Two control tests show that these checks would catch a widget that inserted the same
strings as HTML. The live server runs no engine workers: `settle()` runs the engine, and the
widget reads again when a test moves the browser's clock (`poll`), never by waiting.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import yaml
from flask import Flask
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.browser.harness import (
    on_paused_clock,
    open_widget,
    poll,
    snippet_page,
    widget_call,
    widget_log,
)
from web.services import Services

SCRIPT = "<script>window.__pwned=1;alert(1)</script>"
IMG = '"><img src=x onerror="window.__pwned=1;alert(1)">'
ATTACKS = (SCRIPT, IMG)
# A bot button's label and a promo card's button have at most 20 characters (Messenger's
# limit): too few for an event handler, enough for elements (an `<svg onload>` would fit,
# but chromium does not run it in parsed fragments).
SHORT_SCRIPT = "<script>x()</script>"
SHORT_IMG = '"><img src=x>'
SHORT_ATTACKS = (SHORT_SCRIPT, SHORT_IMG)
# Elements a payload parsed as HTML would make; the launcher's icon and a card's own
# picture are the widget's.
INJECTED = "script, svg:not(.launcher > svg), img:not(.card > img)"
TITLE = "Acme support"
SHOP = "/shop"  # a website page on Parley's own origin (no CORS) that Parley does not serve
ON_START = {"conversation_started": {"when": 'contact.channel == "widget"'}}
TO_DONE = {"valid": "done", "invalid": "done"}  # a step's next, whatever the visitor answers
END = {"end": True}  # the step "done", where the flows' buttons and answers lead


class Tripwire:
    """What would show that a payload ran on the page: dialogs opened, the global set."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dismiss)

    def _dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_untouched(self) -> None:
        """Nothing was injected into the widget and nothing ran."""
        expect(widget(self.page).locator(INJECTED)).to_have_count(0)
        assert self.page.evaluate("typeof window.__pwned") == "undefined"
        assert self.dialogs == []


@pytest.fixture
def parley(services: Services, owner_token: str) -> Services:
    """The served app's services (with its workspace made)."""
    return services


@pytest.fixture
def tripwire(page: Page) -> Tripwire:
    return Tripwire(page)


@pytest.fixture
def website(page: Page, live_server: str, parley: Services) -> Callable[..., Page]:
    """Open a website page that embeds the widget with the given data-parley-* attributes,
    the browser's timers on a paused clock; the page."""

    def visit(**data: str) -> Page:
        attributes = " ".join(
            f'data-parley-{name}="{html.escape(value, quote=True)}"' for name, value in data.items()
        )
        body = snippet_page("/widget.js", attributes)
        page.route(f"{live_server}{SHOP}", lambda r: r.fulfill(content_type="text/html", body=body))
        return on_paused_clock(page, SHOP)

    return visit


@pytest.fixture
def visitor(website: Callable[..., Page]) -> Page:
    """A visitor's tab on a website with the widget titled TITLE."""
    return website(title=TITLE)


def widget(page: Page) -> Locator:
    """The widget's host element (Playwright's CSS locators go into its shadow root)."""
    return page.locator("[data-parley-widget]")


def log(page: Page) -> Locator:
    return widget_log(page, TITLE)


def add_flow(parley: Services, flow_id: str, **steps: dict[str, Any]) -> None:
    """Put a flow that a widget conversation's start triggers in the app's flows folder, and
    load it: its `steps`, from the first."""
    flow = {"id": flow_id, "trigger": ON_START, "start": next(iter(steps)), "steps": steps}
    path = parley.settings.flows_dir / f"{flow_id}.yaml"
    path.write_text(yaml.safe_dump(flow, sort_keys=False))
    report = parley.reload_flows()
    assert not report.failed(), report.diagnostics


def bot_answers(page: Page, parley: Services) -> None:
    """Open the chat, let the engine run the flows it starts, and read what they sent."""
    open_widget(page)
    parley.settle()
    poll(page)


def expect_buttons(page: Page, names: Iterable[str]) -> None:
    """The widget's log shows a button by each of `names` (its whole name)."""
    for name in names:
        expect(log(page).get_by_role("button", name=name, exact=True)).to_be_visible()


def test_the_visitors_own_messages_are_text(visitor: Page, tripwire: Tripwire) -> None:
    open_widget(visitor)
    message = visitor.get_by_role("textbox", name="Message")
    for attack in ATTACKS:
        with visitor.expect_response(widget_call("POST", "/messages")):
            message.fill(attack)
            message.press("Enter")
        expect(log(visitor).locator(".visitor .bubble").last).to_have_text(attack)
    tripwire.assert_untouched()


def test_an_agents_reply_is_text(
    visitor: Page, tripwire: Tripwire, live_app: Flask, owner_token: str
) -> None:
    conversation = open_widget(visitor).json()["conversation_id"]
    api = live_app.test_client()
    as_owner = {"Authorization": f"Bearer {owner_token}"}
    for attack in ATTACKS:
        sent = api.post(
            f"/conversations/{conversation}/messages", json={"text": attack}, headers=as_owner
        )
        assert sent.status_code == 201, sent.get_json()
    poll(visitor)
    replies = log(visitor).locator(".agent .bubble")
    expect(replies).to_have_text(list(ATTACKS))
    tripwire.assert_untouched()


def test_a_bots_message_and_its_buttons_are_text(
    visitor: Page, tripwire: Tripwire, parley: Services
) -> None:
    buttons = [{"label": label, "goto": "done"} for label in SHORT_ATTACKS]
    offer = {"say": f"{SCRIPT} {IMG}", "buttons": buttons}
    add_flow(parley, "hostile-buttons", offer=offer, done=END)
    bot_answers(visitor, parley)
    expect(log(visitor).locator(".bot .bubble", has_text=SCRIPT)).to_have_text(f"{SCRIPT} {IMG}")
    expect_buttons(visitor, SHORT_ATTACKS)
    tripwire.assert_untouched()


def test_an_asks_question_and_choices_are_text(
    visitor: Page, tripwire: Tripwire, parley: Services
) -> None:
    ask = {"ask": IMG, "expect": "choice", "choices": list(ATTACKS), "on": TO_DONE}
    add_flow(parley, "hostile-choices", pick=ask, done=END)
    bot_answers(visitor, parley)
    expect(log(visitor).locator(".bot .bubble", has_text=IMG)).to_have_text(IMG)
    expect_buttons(visitor, ATTACKS)
    tripwire.assert_untouched()


def test_a_promo_cards_title_text_and_button_are_text(
    visitor: Page, tripwire: Tripwire, parley: Services
) -> None:
    promo_card = {
        "title": IMG,
        "text": SCRIPT,
        "image": "https://example.com/hostile.png",
        "button": SHORT_SCRIPT,
    }
    add_flow(parley, "hostile-card", card={"promo_card": promo_card, "on": TO_DONE}, done=END)
    bot_answers(visitor, parley)
    card = log(visitor).locator(".card", has=visitor.get_by_role("heading", name=IMG))
    expect(card.get_by_role("heading", name=IMG, exact=True)).to_have_text(IMG)
    expect(card.locator("p")).to_have_text(SCRIPT)
    expect(card.get_by_role("button", name=SHORT_SCRIPT, exact=True)).to_be_visible()
    tripwire.assert_untouched()


def test_the_visitors_name_a_flow_greets_them_by_is_text(
    website: Callable[..., Page], tripwire: Tripwire, parley: Services
) -> None:
    hello = {"say": "Hello {{ contact.display_name }}!", "end": True}
    add_flow(parley, "greet-by-name", hello=hello)
    visitor = website(title=TITLE, name=IMG)
    bot_answers(visitor, parley)
    expect(log(visitor).locator(".bot .bubble", has_text="Hello")).to_have_text(f"Hello {IMG}!")
    tripwire.assert_untouched()


def test_the_websites_title_for_the_panel_is_text(
    website: Callable[..., Page], tripwire: Tripwire
) -> None:
    page = website(title=IMG)
    open_widget(page)
    expect(page.get_by_role("dialog", name=IMG, exact=True)).to_be_visible()
    expect(widget(page).get_by_role("heading", level=2)).to_have_text(IMG)
    tripwire.assert_untouched()


# Controls: the same strings, inserted into the widget's log as HTML, trip the checks above.


def insert_as_html(page: Page, markup: str) -> None:
    """What a widget that built its log with innerHTML would do."""
    page.evaluate(
        """markup => document.querySelector("[data-parley-widget]").shadowRoot
             .querySelector(".log").insertAdjacentHTML("beforeend", markup)""",
        markup,
    )


@pytest.mark.parametrize("markup", [*ATTACKS, *SHORT_ATTACKS])
def test_control_each_attack_parsed_as_html_makes_an_element(
    visitor: Page, tripwire: Tripwire, markup: str
) -> None:
    open_widget(visitor)
    insert_as_html(visitor, markup)
    expect(widget(visitor).locator(INJECTED)).to_have_count(1)


def test_control_an_event_handler_parsed_as_html_runs(visitor: Page, tripwire: Tripwire) -> None:
    open_widget(visitor)
    with visitor.expect_event("dialog"):
        insert_as_html(visitor, IMG)
    assert tripwire.dialogs == ["1"]
    assert visitor.evaluate("window.__pwned") == 1
