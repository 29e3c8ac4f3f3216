"""The flows API: check status, reload, funnel and drill-down, and its OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.events import Event
from engine.flows import SET_CHECK_EVERY
from engine.ports import ManualClock
from server import create_app, first_start
from settings import Settings
from tests import seeding
from web.openapi import document

ROOT = Path(__file__).resolve().parents[2]


def test_the_loaded_flows_are_listed(client: FlaskClient, owner: dict[str, str]) -> None:
    body = client.get("/flows", headers=owner).get_json()
    assert sorted(f["id"] for f in body["flows"]) == [
        "handoff",
        "off-platform-follow-up",
        "promo-card",
        "win-back",
    ]
    assert body["findings"] == []


def test_a_bad_file_is_reported_on_reload_while_the_good_flows_keep_running(
    client: FlaskClient, flows_dir: Path, owner: dict[str, str]
) -> None:
    (flows_dir / "broken.yaml").write_text("id: broken\ntrigger: {conversation_started: }\n")
    body = client.post("/flows/reload", headers=owner).get_json()
    assert len(body["flows"]) == 4
    assert body["findings"][0]["path"].endswith("broken.yaml")
    assert body["findings"][0]["rule"] == "missing-key"


def test_a_reload_replaces_the_set_a_deleted_file_is_gone(
    client: FlaskClient, flows_dir: Path, owner: dict[str, str]
) -> None:
    (flows_dir / "win-back.yaml").unlink()
    body = client.post("/flows/reload", headers=owner).get_json()
    assert "win-back" not in [f["id"] for f in body["flows"]]
    assert client.get("/flows", headers=owner).get_json() == body
    assert client.get("/flows/win-back/funnel", headers=owner).status_code == 404


def test_a_bad_file_at_reload_keeps_its_previous_version_listed_with_its_findings(
    client: FlaskClient, flows_dir: Path, owner: dict[str, str]
) -> None:
    before = client.get("/flows", headers=owner).get_json()["flows"]
    (flows_dir / "handoff.yaml").write_text("id: handoff\n")
    body = client.post("/flows/reload", headers=owner).get_json()
    assert body["flows"] == before  # the version loaded before, from the same file
    assert {f["path"] for f in body["findings"]} == {str(flows_dir / "handoff.yaml")}
    assert {f["severity"] for f in body["findings"]} == {"error"}
    assert client.get("/flows", headers=owner).get_json() == body


def test_two_processes_on_one_redis_run_the_same_flows_after_one_reloads(
    service_settings: Settings, flows_dir: Path, tmp_path: Path
) -> None:
    clock = ManualClock()
    first = create_app(service_settings, clock)
    # like a web process of `parley serve`, or a worker on a machine with other files
    elsewhere = replace(service_settings, flows_dir=tmp_path / "elsewhere")
    second = create_app(elsewhere, clock, publish_flows=False)
    try:
        owner = {"Authorization": f"Bearer {seeding.owner_token(first.extensions['parley'])}"}
        second.extensions["parley"].settle()  # its workers have looked at the set once
        handoff = flows_dir / "handoff.yaml"
        handoff.write_text(handoff.read_text().replace("Sure, let me", "One moment, I'll"))
        (flows_dir / "win-back.yaml").unlink()
        reloaded = first.test_client().post("/flows/reload", headers=owner).get_json()
        clock.advance(SET_CHECK_EVERY)  # when the second's workers look again
        services = second.extensions["parley"]
        services.events.publish(
            Event(
                id="e1",
                type="message.received",
                visitor_id="v1",
                conversation_id="c1",
                at=clock.now(),
                channel="messenger",
                state="hosted",
                text="agent",
            )
        )
        services.settle()
        said = [
            c["args"]["text"] for c in services.engine.store.read_commands() if "text" in c["args"]
        ]
        assert said == ["One moment, I'll get a person for you."]
        assert second.test_client().get("/flows", headers=owner).get_json() == reloaded
        assert "win-back" not in [f["id"] for f in reloaded["flows"]]
    finally:
        first.extensions["parley"].close()
        second.extensions["parley"].close()


def test_the_funnel_and_visitors_of_a_flow(
    app: Flask, client: FlaskClient, owner: dict[str, str]
) -> None:
    engine = app.extensions["parley"].engine
    engine.handle(
        Event(
            id="e1",
            type="message.received",
            visitor_id="v1",
            conversation_id="c1",
            at=1_767_225_600.0,
            channel="messenger",
            state="hosted",
            text="agent",
        )
    )
    funnel = client.get("/flows/handoff/funnel", headers=owner).get_json()
    assert (funnel["triggered_visitors"], funnel["completed_visitors"]) == (1, 1)
    visitors = client.get("/flows/handoff/visitors?status=completed", headers=owner).get_json()
    assert [v["visitor_id"] for v in visitors["visitors"]] == ["v1"]
    assert visitors["next_cursor"] is None


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/flows/nope/funnel", 404, "flow_id"),
        ("/flows/handoff/visitors?status=happy", 422, "status"),
        ("/flows/handoff/visitors?since=yesterday", 422, "since"),
        ("/flows/handoff/visitors?until=nan", 422, "until"),
        ("/flows/handoff/visitors?limit=0", 422, "limit"),
        ("/flows/handoff/visitors?cursor=forged", 422, "cursor"),
    ],
)
def test_bad_requests_get_a_json_error_naming_the_field(
    client: FlaskClient, owner: dict[str, str], url: str, status: int, field: str
) -> None:
    response = client.get(url, headers=owner)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"]


def test_an_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_flows_need_a_member(client: FlaskClient) -> None:
    response = client.get("/flows")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_the_openapi_document_lists_exactly_the_routes(app: Flask, client: FlaskClient) -> None:
    assert client.get("/openapi.json").get_json() == document()
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ("static", "openapi.openapi_json", "api_docs.docs")
        and not rule.endpoint.startswith("console.")  # pages for people, not the JSON API
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, ops in document()["paths"].items() for method in ops}
    assert routes == documented


def test_the_first_start_creates_the_owner_once(app: Flask) -> None:
    services = app.extensions["parley"]
    first = first_start(services)
    assert first is not None
    assert first.token.startswith("pk_")
    assert first.password_link.startswith("http://127.0.0.1:8000/password/")
    assert first_start(services) is None
    headers = {"Authorization": f"Bearer {first.token}"}
    me = app.test_client().get("/me", headers=headers).get_json()
    assert (me["email"], me["role"]) == ("owner@example.com", "owner")


@pytest.mark.parametrize(
    "url",
    [
        "/conversations?assignee_id=%C2%B2",
        "/conversations?assignee_id=" + "9" * 5000,
        "/conversations?received_from=0001-01-01T00:30:00%2B01:00",
        "/conversations?cursor=" + "QQ" * 10,
        "/flows/handoff/visitors?cursor=WyJOYU4iLCAieCJd",
    ],
)
def test_odd_query_values_are_refused_not_a_server_error(
    client: FlaskClient, owner: dict[str, str], url: str
) -> None:
    response = client.get(url, headers=owner)
    assert response.status_code == 422, response.get_json()


def test_prometheus_scrapes_the_funnels_with_a_token(
    client: FlaskClient, owner: dict[str, str]
) -> None:
    response = client.get("/flows/metrics", headers=owner)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert 'parley_flow_triggers_total{flow="handoff"} 0' in response.get_data(as_text=True)
    assert client.get("/flows/metrics").status_code == 401
