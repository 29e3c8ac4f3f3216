"""A Parley service per test: real Redis, a SQLite file, the shipped flows, one owner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from channels.messenger.settings import MessengerSettings
from server import create_app
from settings import Settings
from tests import seeding
from tests.fakes.graph_api import FakeGraphApi

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """A copy of the shipped flows that a test may change."""
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder)
    return folder


@pytest.fixture
def service_settings(
    redis_server: str,
    redis_client: redis.Redis,
    tmp_path: Path,
    flows_dir: Path,
    db_url: str,
    graph_api: FakeGraphApi,
) -> Settings:
    """The service's settings: an empty Redis and a new database (SQLite, and PostgreSQL if
    set); Messenger calls go to the fake Graph API, never to Meta."""
    return Settings(
        redis_url=redis_server,
        database_url=db_url,
        data_dir=tmp_path / "var",
        flows_dir=flows_dir,
        messenger=MessengerSettings(app_secret=graph_api.app_secret, graph_api_url=graph_api.url),
    )


@pytest.fixture
def app(service_settings: Settings) -> Iterator[Flask]:
    """The service, on the wall clock."""
    app = create_app(service_settings)
    yield app
    app.extensions["parley"].close()


@pytest.fixture
def owner_token(app: Flask) -> str:
    """The API token of the workspace's owner (`tests.seeding.owner_token` makes them)."""
    return seeding.owner_token(app.extensions["parley"])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the service."""
    return app.test_client()


@pytest.fixture
def owner(owner_token: str) -> dict[str, str]:
    """Request headers that authenticate as the owner."""
    return {"Authorization": f"Bearer {owner_token}"}
