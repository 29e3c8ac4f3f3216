"""The browser harness itself: chromium reaches the live app, axe-core fails a page with
serious accessibility errors and passes a clean one, the locale reaches the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Blueprint, Flask, request
from markupsafe import escape
from playwright.sync_api import Page, expect

from tests.browser.harness import AccessibilityViolations, check_accessibility, screenshot

PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


def html(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><main>{body}</main></body></html>"
    )


CLEAN = html("Clean", '<h1>Inbox</h1><a href="/"><img src="' + PIXEL + '" alt="Home"></a>')
BROKEN = html(
    "Broken",
    f'<h1>Inbox</h1><a href="/"><img src="{PIXEL}"></a><button type="button"></button>',
)


def add_test_pages(app: Flask) -> None:
    """Pages of this test only, on the app of this test (never in production code)."""
    pages = Blueprint("test_pages", __name__)
    pages.add_url_rule("/_test/clean", "clean", lambda: CLEAN)
    pages.add_url_rule("/_test/broken", "broken", lambda: BROKEN)
    pages.add_url_rule(
        "/_test/accept-language",
        "accept_language",
        lambda: html("Language", f'<p id="accept-language">{escape(language())}</p>'),
    )
    app.register_blueprint(pages)


def language() -> str:
    return request.headers.get("Accept-Language", "")


def test_the_live_server_answers_healthz_in_the_browser(page: Page) -> None:
    response = page.goto("/healthz")

    assert response is not None
    assert response.ok
    assert response.json() == {"status": "ok"}


def test_a_page_with_serious_accessibility_errors_fails_the_check(
    live_app: Flask, page: Page
) -> None:
    add_test_pages(live_app)
    page.goto("/_test/broken")

    with pytest.raises(AccessibilityViolations) as failure:
        check_accessibility(page)

    report = str(failure.value)
    for rule in ("image-alt", "link-name", "button-name"):
        assert f"- {rule} (" in report
    assert "at a > img" in report or "at img" in report
    assert "at button" in report


def test_a_clean_page_passes_the_check(live_app: Flask, page: Page) -> None:
    add_test_pages(live_app)
    page.goto("/_test/clean")

    check_accessibility(page)


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_the_locale_reaches_the_server_as_accept_language(live_app: Flask, page: Page) -> None:
    add_test_pages(live_app)
    page.goto("/_test/accept-language")

    expect(page.locator("#accept-language")).to_have_text("zh-CN")


def test_the_locale_is_en_us_unless_a_test_asks(live_app: Flask, page: Page) -> None:
    add_test_pages(live_app)
    page.goto("/_test/accept-language")

    expect(page.locator("#accept-language")).to_have_text("en-US")


def test_screenshots_are_saved_only_when_asked(
    live_app: Flask, page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_test_pages(live_app)
    page.goto("/_test/clean")
    monkeypatch.delenv("PARLEY_SCREENSHOTS", raising=False)
    assert screenshot(page, "clean", tmp_path / "console") is None
    assert not (tmp_path / "console").exists()

    monkeypatch.setenv("PARLEY_SCREENSHOTS", "1")
    saved = screenshot(page, "clean", tmp_path / "console")

    assert saved == tmp_path / "console" / "clean.png"
    assert saved.read_bytes().startswith(b"\x89PNG")
