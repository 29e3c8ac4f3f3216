"""What browser tests check on a page: its accessibility (axe-core) and, for the docs, how
it looks; the members they sign in as; and how they drive the website widget."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from flask import Flask
from playwright.sync_api import Locator, Page, Response
from sqlalchemy import select

from chat.members import add_member as add_member_to
from chat.members import create_workspace
from chat.models import Member, Workspace
from tests.conftest import CHEAP_HASHER

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "console"
FAILING_IMPACTS = ("critical", "serious")  # "moderate" and "minor" are reported by axe only


class AccessibilityViolations(AssertionError):
    """axe-core found serious or critical violations on a page; the message lists each."""


def check_accessibility(page: Page) -> None:
    """Run axe-core on the page as it is now; fail with every serious or critical violation:
    its rule id, impact, help and the selectors of the elements at fault."""
    violations = Axe().run(page).response["violations"]
    failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    if failing:
        raise AccessibilityViolations(_report(page.url, failing))


def _report(url: str, violations: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        lines.extend(f"    at {_selector(node['target'])}" for node in violation["nodes"])
    return "\n".join(lines)


def _selector(target: Sequence[str | Sequence[str]]) -> str:
    """axe's target: a selector per frame; a list of selectors where shadow roots cross."""
    return " >> ".join(part if isinstance(part, str) else " >>> ".join(part) for part in target)


def screenshot(page: Page, name: str, folder: Path = SCREENSHOTS) -> Path | None:
    """Save the page as docs/console/<name>.png when PARLEY_SCREENSHOTS=1, so the docs'
    screenshots come from the tests; otherwise do nothing. The file saved, or None."""
    if os.environ.get("PARLEY_SCREENSHOTS") != "1":
        return None
    if not name or Path(name).name != name:
        raise ValueError(f"a screenshot's name is a plain file name, not {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


PASSWORD = "correct horse battery"  # every member the browser tests make signs in with it
OWNER = "owner@example.com"


def add_member(
    app: Flask,
    email: str,
    name: str,
    role: str = "agent",
    permissions: Sequence[str] = (),
) -> int:
    """A member of the workspace (made with its owner on first use) with PASSWORD; their id."""
    services = app.extensions["parley"]
    with services.sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).first()
        if workspace is None:
            workspace, owner, _ = create_workspace(session, "Acme", OWNER, "Olga Owner")
            _give_password(owner)
        if role == "owner":
            member = session.scalars(select(Member).where(Member.role == "owner")).one()
        else:
            member = add_member_to(session, workspace, email, name, role, permissions)
            _give_password(member)
        return int(member.id)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in on the console's sign-in page, as a member would, and land on the inbox."""
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/inbox**")


def _give_password(member: Member) -> None:
    member.password_hash = _password_hash()


@functools.cache
def _password_hash() -> str:
    """PASSWORD hashed once per test session."""
    return CHEAP_HASHER.hash(PASSWORD)


# The website widget. Its timers run on Playwright's clock, installed at START by
# `on_paused_clock`: the widget reads again when a test moves that clock (`poll`).
POLL_SLOWEST_MS = 15_000  # the widget's longest wait between two reads
START = 1_800_000_000  # the browser's clock: any time will do, the widget shows none


def snippet_page(script_src: str, attributes: str = "") -> str:
    """A website's page with the widget's snippet in it, as its owner would paste it."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
        f'<script src="{script_src}" {attributes} defer></script></head>'
        "<body><main><h1>Shop</h1></main></body></html>"
    )


def on_paused_clock(page: Page, url: str) -> Page:
    """Open `url` in `page`, its timers on a paused clock and pictures from example.com (a
    promo card's) refused; the page."""
    page.route("https://example.com/**", lambda route: route.abort())
    page.clock.install(time=START)
    page.goto(url)
    return page


def widget_log(page: Page, title: str) -> Locator:
    """The messages of the widget's chat panel titled `title`."""
    return page.get_by_role("dialog", name=title).get_by_role("log", name="Messages")


def poll(page: Page) -> None:
    """Move the browser's clock past the widget's next read."""
    page.clock.fast_forward(POLL_SLOWEST_MS)


def widget_call(method: str, path: str) -> Callable[[Response], bool]:
    """Whether a response answers the widget's `method` request to a URL ending in `path`."""
    return lambda r: r.request.method == method and r.url.split("?")[0].endswith(path)


def open_widget(page: Page) -> Response:
    """Open the chat; the widget's start (or resume) call's answer."""
    with page.expect_response(widget_call("POST", "/widget/conversations")) as started:
        page.get_by_role("button", name="Chat with us").click()
    return started.value
