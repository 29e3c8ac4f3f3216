"""Browser tests: Debian's chromium, driven by Playwright, against the Flask app served live.

pytest-playwright provides `browser` (session), `context` and `page` (per test); this file
points them at Parley:

- `browser_type_launch_args` (session): headless /usr/bin/chromium, never a browser of
  `playwright install`. Without it every browser test fails and says how to install it.
- `clock` (per test): the app's virtual clock. Nothing here sleeps; a test moves time.
- `live_app` (per test): `create_app()` on a SQLite file, the session's real Redis (emptied),
  a copy of the shipped flows and the fake Graph API.
- `live_server` (per test): `live_app` served on the session's HTTP server; its base URL.
- `services` (per test): the served app's services, to seed data and run the engine.
- `owner_token` (per test): the workspace made with its owner; the owner's API token.
- `base_url` (session): that server's URL, so `page.goto("/healthz")` works.
- `browser_context_args` (per test): pytest-playwright's, plus the live server and
  `locale` (per test, "en-US" unless a test asks, which sets Accept-Language):

      @pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)

Browser tests run on SQLite only: they test the pages; the chat layer has its own tests on
PostgreSQL (see `db_url` in tests/conftest.py).

Every test under this folder is marked `browser` (`pytest -m "not browser"` leaves them out).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import pytest
import redis
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from channels.messenger.settings import MessengerSettings
from engine.ports import ManualClock
from server import create_app
from settings import Settings
from tests import seeding
from tests.fakes.graph_api import FakeGraphApi
from web.services import Services

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-sandbox",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser `browser` (this hook sees the whole session's
    items, so it picks this folder's own)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, headless (unless --headed), with its background services off."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need {CHROMIUM}: "
            "install Debian's chromium: apt-get install -y chromium fonts-noto-cjk",
            pytrace=False,
        )
    return {
        "headless": True,
        **browser_type_launch_args,  # --headed, --slowmo from the command line win
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def clock() -> ManualClock:
    """The app's virtual clock: time moves only when a test advances it."""
    return ManualClock()


@pytest.fixture
def live_app(
    redis_server: str,
    redis_client: redis.Redis,
    tmp_path: Path,
    clock: ManualClock,
    graph_api: FakeGraphApi,
) -> Iterator[Flask]:
    """The service on the virtual clock: an emptied Redis, a new SQLite file, a copy of the
    shipped flows; Messenger calls go to the fake Graph API, never to Meta. A test may
    register its own blueprints on it before the first request."""
    flows_dir = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows_dir)
    settings = Settings(
        redis_url=redis_server,
        database_url=f"sqlite:///{tmp_path / 'parley.db'}",
        data_dir=tmp_path / "var",
        flows_dir=flows_dir,
        messenger=MessengerSettings(app_secret=graph_api.app_secret, graph_api_url=graph_api.url),
    )
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["parley"].close()


@pytest.fixture
def services(live_server: str, live_app: Flask) -> Services:
    """The services of the app being served (to seed data and run the engine's work)."""
    found: Services = live_app.extensions["parley"]
    return found


@pytest.fixture
def owner_token(services: Services) -> str:
    """The workspace the tests' visitors join, made with its owner; the owner's API token."""
    return seeding.owner_token(services)


class _Mount:
    """The WSGI app of the session's server: it hands each request to the app mounted by the
    running test, and answers 503 between tests."""

    def __init__(self) -> None:
        self.app: WSGIApplication | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self.app
        if app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"no app is mounted: the test asks for live_server to serve one\n"]
        return app(environ, start_response)


@pytest.fixture(scope="session")
def _http_server() -> Iterator[tuple[BaseWSGIServer, _Mount]]:
    """werkzeug's threaded server on a free loopback port, in a daemon thread, for the
    session: one port, so `base_url` (and pytest-playwright's context arguments built on it)
    stay session-wide, while each test mounts an app of its own."""
    mount = _Mount()
    server = make_server("127.0.0.1", 0, mount, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield server, mount
    finally:
        server.shutdown()  # serve_forever returns and closes the listening socket
        thread.join()


@pytest.fixture(scope="session")
def base_url(_http_server: tuple[BaseWSGIServer, _Mount]) -> str:
    """The live server's URL (overrides pytest-playwright's and its --base-url option)."""
    server, _ = _http_server
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
def live_server(
    _http_server: tuple[BaseWSGIServer, _Mount], base_url: str, live_app: Flask
) -> Iterator[str]:
    """`live_app` served over HTTP for this test; the base URL."""
    _, mount = _http_server
    mount.app = live_app
    try:
        yield base_url
    finally:
        mount.app = None


@pytest.fixture
def locale(request: pytest.FixtureRequest) -> str:
    """The browser's locale (and Accept-Language): en-US unless the test parametrizes it."""
    return str(getattr(request, "param", "en-US"))


@pytest.fixture
def browser_context_args(
    browser_context_args: dict[str, Any], live_server: str, locale: str
) -> dict[str, Any]:
    """pytest-playwright's context arguments, on the live server, in the test's locale."""
    return {**browser_context_args, "base_url": live_server, "locale": locale}
