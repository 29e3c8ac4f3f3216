"""The whole service on a Redis Cluster, as `REDIS_URL=redis+cluster://…` runs it: the
widget's conversation through the outbox, the engine and the chat layer's executor; live
notices by pub/sub; rate limits; the metrics scrape and the readiness check."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from redis.cluster import RedisCluster
from sqlalchemy import select

from chat.models import Workspace
from cli import main
from engine.client import parley_client
from engine.keys import Keys
from engine.ports import ManualClock
from engine.worker import GROUP
from server import create_app
from settings import RateRules, Settings
from tests import seeding
from tests.cluster.local import LocalCluster
from tests.service.conftest import parley
from tests.service.crowd import wall_clock

pytestmark = pytest.mark.cluster
ROOT = Path(__file__).resolve().parents[2]
T0 = 1_767_225_600.0
PATIENCE = 30.0  # seconds for a worker process to start and do its work


@pytest.fixture
def settings(redis_cluster: LocalCluster, tmp_path: Path) -> Settings:
    """The service on the session's Cluster, emptied first, with a replica holding each
    published event; the shipped flows; a SQLite file."""
    with parley_client(redis_cluster.url) as client:
        client.flushall()
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    return Settings(
        redis_url=redis_cluster.url,
        redis_wait_replicas=1,
        database_url=f"sqlite:///{tmp_path / 'parley.db'}",
        data_dir=tmp_path / "var",
        flows_dir=tmp_path / "flows",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, ManualClock(T0))
    yield app
    app.extensions["parley"].close()


@pytest.fixture
def owner(app: Flask) -> dict[str, str]:
    """The owner's API headers (making the workspace the widget puts visitors in)."""
    return {"Authorization": f"Bearer {seeding.owner_token(app.extensions['parley'])}"}


def environment(settings: Settings) -> dict[str, str]:
    """The environment of a Parley process on `settings`."""
    assert settings.redis_url is not None
    assert settings.database_url is not None
    outside = {name: value for name, value in os.environ.items() if not name.startswith("PARLEY_")}
    return {
        **outside,
        "REDIS_URL": settings.redis_url,
        "PARLEY_REDIS_WAIT_REPLICAS": str(settings.redis_wait_replicas),
        "DATABASE_URL": settings.database_url,
        "PARLEY_DATA_DIR": str(settings.data_dir),
        "PARLEY_FLOWS_DIR": str(settings.flows_dir),
    }


def start(client: FlaskClient) -> tuple[int, dict[str, str]]:
    reply = client.post("/widget/conversations", json={"name": "Ben"})
    assert reply.status_code == 201
    body = reply.get_json()
    return body["conversation_id"], {"X-Visitor-Token": body["visitor_token"]}


def texts(client: FlaskClient, conversation: int, visitor: dict[str, str]) -> list[str]:
    found = client.get(f"/widget/conversations/{conversation}/messages", headers=visitor)
    return [message["text"] for message in found.get_json()["messages"]]


def test_a_widget_visitor_goes_through_a_flow_on_the_cluster(
    app: Flask, owner: dict[str, str], settings: Settings
) -> None:
    services = app.extensions["parley"]
    assert isinstance(services.redis, RedisCluster)
    client = app.test_client()
    conversation, visitor = start(client)
    services.settle()  # the promo card flow greets the new visitor
    reply = client.post(
        f"/widget/conversations/{conversation}/inputs",
        headers=visitor,
        json={"text": "ben@example.com"},
    )
    assert reply.status_code == 202
    services.settle()
    assert "Done! The code is on its way to ben@example.com." in texts(
        client, conversation, visitor
    )
    funnel = client.get("/flows/promo-card/funnel", headers=owner).get_json()
    assert (funnel["triggered_visitors"], funnel["completed_visitors"]) == (1, 1)
    shown = CliRunner().invoke(main, ["funnel", "promo-card"], env=environment(settings))
    assert shown.exit_code == 0, shown.output
    assert '"completed_visitors": 1' in shown.output


def test_worker_processes_on_the_cluster_share_its_shards_and_carry_a_visit_out(
    app: Flask, owner: dict[str, str], settings: Settings
) -> None:
    client = app.test_client()
    conversation, visitor = start(client)  # its event waits for a worker
    workers = [
        subprocess.Popen(
            parley("worker", "--name", name),
            env=environment(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in ("w1", "w2")
    ]
    try:
        deadline = time.monotonic() + PATIENCE  # real processes: they work in real time
        redis = app.extensions["parley"].redis
        live = Keys().workers(GROUP)
        while not (redis.zcard(live) == 2 and texts(client, conversation, visitor)):
            assert time.monotonic() < deadline, "the workers did not carry the visit out"
            wall_clock(0.1)
        for worker in workers:
            worker.terminate()
        assert [worker.wait(timeout=PATIENCE) for worker in workers] == [0, 0]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()


def test_a_change_is_announced_to_the_workspace_by_pub_sub(
    app: Flask, owner: dict[str, str]
) -> None:
    services = app.extensions["parley"]
    with services.sessions() as session:
        workspace = session.scalars(select(Workspace.id)).one()
    listening = services.changes.listen(workspace, seconds=5)
    next(listening)  # subscribed; nothing yet
    conversation, _ = start(app.test_client())
    heard = list(itertools.takewhile(lambda notice: notice is not None, listening))
    assert {"kind": "conversation", "id": conversation} in heard


def test_rate_limits_are_counted_on_the_cluster(settings: Settings) -> None:
    limited = replace(settings, rate_rules=RateRules(widget_start="2/minute"))
    app = create_app(limited, ManualClock(T0))
    try:
        seeding.owner_token(app.extensions["parley"])
        client = app.test_client()
        answers = [client.post("/widget/conversations", json={}).status_code for _ in range(3)]
        assert answers == [201, 201, 429]
    finally:
        app.extensions["parley"].close()


def test_the_backlog_is_scraped_and_redis_is_ready(app: Flask, owner: dict[str, str]) -> None:
    client = app.test_client()
    start(client)  # its event waits in its shard's stream until a worker takes it
    scrape = client.get("/metrics", headers=owner).get_data(as_text=True)
    lags = [line for line in scrape.splitlines() if line.startswith("parley_event_stream_lag{")]
    assert len(lags) == 64
    assert sum(float(line.rpartition(" ")[2]) for line in lags) == 1
    ready = client.get("/readyz").get_json()
    assert ready["checks"]["redis"]["ok"]
