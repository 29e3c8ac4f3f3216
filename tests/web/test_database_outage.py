"""The database away (PostgreSQL cut off at the network): calls that need it answer 503 with
Retry-After, reads that don't keep working, and the service recovers by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from flask import Flask

from chat.members import create_workspace
from server import create_app
from settings import Settings
from tests.conftest import POSTGRES_URL, reset_schema
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None, reason="a database outage is staged on PostgreSQL (TEST_DATABASE_URL)"
)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    """PostgreSQL reached through a proxy the test can cut."""
    assert POSTGRES_URL is not None
    target = urlsplit(POSTGRES_URL)
    proxy = TcpProxy((target.hostname or "127.0.0.1", target.port or 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def service(
    proxy: TcpProxy, redis_server: str, redis_client: redis.Redis, tmp_path: Path, flows_dir: Path
) -> Iterator[tuple[Flask, str]]:
    """The service on the proxied database, with an owner; and the owner's API token."""
    assert POSTGRES_URL is not None
    target = urlsplit(POSTGRES_URL)
    proxied = POSTGRES_URL.replace(target.netloc, f"{target.username}@127.0.0.1:{proxy.port}")
    settings = Settings(
        redis_url=redis_server,
        database_url=reset_schema(proxied),
        data_dir=tmp_path,
        flows_dir=flows_dir,
    )
    app = create_app(settings)
    with app.extensions["parley"].sessions.begin() as session:
        _, _, token = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
    yield app, token
    app.extensions["parley"].close()


def test_with_the_database_cut_off_calls_answer_503_and_recover_by_themselves(
    service: tuple[Flask, str], proxy: TcpProxy
) -> None:
    app, token = service
    client = app.test_client()
    owner = {"Authorization": f"Bearer {token}"}
    assert client.get("/contacts", headers=owner).status_code == 200

    proxy.cut()
    for path in ("/contacts", "/conversations"):  # the pool's connections are gone, too
        answer = client.get(path, headers=owner)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        assert answer.get_json()["error"]["code"] == "unavailable"
    widget = client.post("/widget/conversations", json={"name": "Ben"})
    assert widget.status_code == 503
    csrf = client.get("/signin").text.split('name="csrf_token" value="')[1].split('"')[0]
    signing_in = client.post(
        "/signin", data={"csrf_token": csrf, "email": "owner@example.com", "password": "x" * 12}
    )
    assert signing_in.status_code == 503  # the console says so in words, on a page
    assert "Parley cannot reach its data at the moment" in signing_in.text
    assert client.get("/healthz").status_code == 200  # the process itself is fine
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"]["ok"] is False

    proxy.restore()
    assert client.get("/contacts", headers=owner).status_code == 200
    assert client.post("/widget/conversations", json={"name": "Ben"}).status_code == 201
    assert client.get("/readyz").status_code == 200
