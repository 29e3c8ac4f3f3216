"""`GET /metrics`: requests by route and status, the engine's backlog, failed sends, funnels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from chat.members import add_member, issue_token
from chat.models import Contact, Conversation, Message, Notification, OutboxEvent, Workspace
from engine.events import Event
from engine.ports import ManualClock
from server import create_app
from settings import Settings
from tests.engine.flows import WAIT_THEN_ASK

T0 = 1_767_225_600.0
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """Only the nudge flow, whose wait puts one timer in the schedule per visitor."""
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "nudge.yaml").write_text(WAIT_THEN_ASK)
    return folder


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def app(service_settings: Settings, clock: ManualClock) -> Iterator[Flask]:
    """The service on a virtual clock, with no worker running: what is queued stays queued."""
    app = create_app(service_settings, clock)
    yield app
    app.extensions["parley"].close()


def scrape(client: FlaskClient, owner: dict[str, str]) -> Samples:
    response = client.get("/metrics", headers=owner)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def requests(samples: Samples, **labels: str) -> float:
    return samples.get(("parley_http_requests_total", frozenset(labels.items())), 0.0)


def hello(visitor: str, at: float = T0) -> Event:
    return Event(
        id=f"{visitor}-{at}",
        type="message.received",
        visitor_id=visitor,
        conversation_id=f"c-{visitor}",
        at=at,
        state="hosted",
        text="hi",
    )


def test_requests_are_counted_by_route_and_status(
    client: FlaskClient, owner: dict[str, str]
) -> None:
    for _ in range(2):
        client.get("/flows", headers=owner)
    client.get("/flows")
    client.get("/conversations/12345", headers=owner)
    client.get("/nothing-here/67890")
    samples = scrape(client, owner)
    get = {"method": "GET"}
    assert requests(samples, **get, route="/flows", status="200") == 2
    assert requests(samples, **get, route="/flows", status="401") == 1
    assert requests(samples, **get, route="/conversations/<id:conversation_id>", status="404") == 1
    assert requests(samples, **get, route="unmatched", status="404") == 1
    routes = {dict(labels).get("route", "") for _, labels in samples}
    assert not any(digits in route for route in routes for digits in ("12345", "67890"))
    latency = ("parley_http_request_duration_seconds_count", {("method", "GET")})
    count = samples[latency[0], frozenset({*latency[1], ("route", "/flows")})]
    assert count == 3
    assert requests(samples, **get, route="/metrics", status="200") == 0  # counted once done
    assert requests(scrape(client, owner), **get, route="/metrics", status="200") == 1


def test_a_method_nobody_serves_is_counted_as_other(
    client: FlaskClient, owner: dict[str, str]
) -> None:
    assert client.open("/flows", method="BREW").status_code == 405
    assert requests(scrape(client, owner), method="other", route="unmatched", status="405") == 1


def test_metrics_need_a_token_of_a_member_who_may_view_all(
    app: Flask, client: FlaskClient, owner_token: str
) -> None:
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"
    with app.extensions["parley"].sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        agent = add_member(session, workspace, "ana@example.com", "Ana", "agent", [])
        session.flush()
        token = issue_token(session, agent)
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_events_not_consumed_and_timers_scheduled_show_until_done(
    app: Flask, client: FlaskClient, owner: dict[str, str], clock: ManualClock
) -> None:
    services = app.extensions["parley"]
    for visitor in ("v1", "v2"):
        services.engine.handle(hello(visitor))  # each waits 90 s: a timer
    services.events.publish(hello("v3"))  # no worker has taken it
    shard = str(services.engine.store.keys.shard("v3"))
    samples = scrape(client, owner)
    assert samples["parley_event_stream_lag", frozenset({("shard", shard)})] == 1
    assert sum(v for (name, _), v in samples.items() if name == "parley_event_stream_lag") == 1
    assert samples["parley_timers_pending", frozenset()] == 2
    assert samples["parley_timers_due", frozenset()] == 0
    assert samples["parley_flow_triggers_total", frozenset({("flow", "nudge")})] == 2
    clock.advance(90)
    assert scrape(client, owner)["parley_timers_due", frozenset()] == 2
    services.engine.fire_due_timers()  # each flow says "Still there?": a command apiece
    samples = scrape(client, owner)
    assert samples["parley_timers_pending", frozenset()] == 0
    assert samples["parley_commands_outstanding", frozenset()] == 2
    services.settle()  # a worker takes v3's event; the commands are carried out
    samples = scrape(client, owner)
    assert samples["parley_event_stream_lag", frozenset({("shard", shard)})] == 0
    assert samples["parley_commands_outstanding", frozenset()] == 0


def test_failed_sends_notifications_and_set_aside_events_are_counted(
    app: Flask, client: FlaskClient, owner: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    with app.extensions["parley"].sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        contact = Contact(workspace_id=workspace.id, name="Vera", tags=[])
        session.add(contact)
        session.flush()
        conversation = Conversation(
            workspace_id=workspace.id,
            contact_id=contact.id,
            channel="messenger",
            account="page-1",
            is_new_visitor=True,
        )
        session.add(conversation)
        session.flush()
        for delivery in ("failed", "failed", "sent", None):
            session.add(
                Message(
                    conversation_id=conversation.id,
                    sender="bot",
                    channel="messenger",
                    delivery=delivery,
                )
            )
        for status in ("failed", "sent", "pending"):
            session.add(
                Notification(
                    conversation_id=conversation.id,
                    email="owner@example.com",
                    waiting_since=now,
                    status=status,
                    send_after=now,
                    created_at=now,
                )
            )
        session.add(OutboxEvent(event="{}", created_at=now, error="version: unsupported"))
    samples = scrape(client, owner)
    assert samples["parley_messenger_sends_failed", frozenset()] == 2
    assert samples["parley_notifications_failed", frozenset()] == 1
    assert samples["parley_outbox_events_set_aside", frozenset()] == 1
