"""Parley with a Page connected through the fake Graph API, on one virtual clock for both."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from channels.messenger.settings import MessengerSettings
from chat.members import create_workspace
from engine.ports import ManualClock
from server import create_app
from settings import Settings
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_state import Page
from web.services import Services


@dataclass
class Shop:
    """Parley with the Page connected: its API, the fake Graph API, and one clock for both."""

    app: Flask
    client: FlaskClient
    graph: FakeGraphApi
    page: Page
    clock: ManualClock
    owner: dict[str, str]

    @property
    def services(self) -> Services:
        found: Services = self.app.extensions["parley"]
        return found

    def post_webhook(self, body: bytes, headers: Mapping[str, str]) -> int:
        """What Meta's POST does: the raw signed body to Parley's webhook."""
        response = self.client.post("/webhooks/messenger", data=body, headers=dict(headers))
        return response.status_code

    def deliver(self, **options: Any) -> None:
        """Meta delivers the queued webhooks, and Parley's workers do what they say."""
        for delivery in self.graph.deliver_webhooks(post=self.post_webhook, **options):
            assert delivery.status == 200
        self.services.settle()

    def advance(self, seconds: float) -> None:
        """Time passes, for Parley and for Meta alike."""
        self.clock.advance(seconds)
        self.graph.advance(seconds)

    def api(self, method: str, url: str, body: Any = None, status: int = 200) -> Any:
        """Call Parley's API as the owner; the answer's JSON."""
        response = self.client.open(url, method=method, json=body, headers=self.owner)
        assert response.status_code == status, response.get_json()
        return response.get_json()


@contextlib.contextmanager
def open_shop(
    graph: FakeGraphApi,
    redis_url: str,
    db_url: str,
    tmp_path: Path,
    allowed_tags: tuple[str, ...] = (),
) -> Iterator[Shop]:
    """Parley serving one Page of `graph`, whose owner has connected the Page; flows from
    `tmp_path/flows`, empty unless the test writes some."""
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    settings = Settings(
        redis_url=redis_url,
        database_url=db_url,
        data_dir=tmp_path / "var",
        flows_dir=flows,
        messenger=MessengerSettings(
            app_id=graph.app_id,
            app_secret=graph.app_secret,
            verify_token=graph.verify_token,
            graph_api_url=graph.url,
            allowed_tags=allowed_tags,
        ),
    )
    clock = ManualClock(graph.clock)
    app = create_app(settings, clock)
    with app.extensions["parley"].sessions.begin() as session:
        _, _, token = create_workspace(session, "Acme", "olga@example.com", "Olga")
    page = graph.add_page(name="Acme Shoes")
    shop = Shop(app, app.test_client(), graph, page, clock, {"Authorization": f"Bearer {token}"})
    shop.api(
        "POST",
        "/channels/messenger/pages",
        {"page_id": page.id, "name": page.name, "access_token": page.token},
        status=201,
    )
    try:
        yield shop
    finally:
        app.extensions["parley"].close()
