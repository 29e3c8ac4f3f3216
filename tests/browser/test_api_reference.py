"""The API reference at /docs in chromium: Redoc renders the document, and nothing leaves
the browser for the internet. Redoc's sidebar always asks for Redocly's logo on their CDN;
the page's Content-Security-Policy stops that request before it goes out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.harness import check_accessibility

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_the_reference_shows_the_operations_and_fetches_nothing_from_the_internet(
    page: Page, live_server: str
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    with page.expect_event("requestfailed", lambda r: r.url == REDOCLY_LOGO) as logo:
        page.goto("/docs")

    expect(page).to_have_title("Parley API")
    expect(page.get_by_role("heading", name="Contacts, newest first")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Start or resume a visitor's widget conversation")
    ).to_be_visible()
    assert logo.value.failure == "csp"  # the page's policy stopped it inside the browser
    # blob:{live_server}/…: the search worker Redoc makes from its own code, in memory
    here = (f"{live_server}/", f"blob:{live_server}/")
    elsewhere = [url for url in requested if not url.startswith(here)]
    assert elsewhere == [REDOCLY_LOGO]
    check_accessibility(page)
