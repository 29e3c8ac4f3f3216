"""Each request has an id that its log lines carry and its response names."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_a_sane_request_id_from_the_caller_is_kept(client: FlaskClient) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": "lb-42.a:b"})
    assert answer.headers["X-Request-ID"] == "lb-42.a:b"


def test_a_request_id_that_could_forge_a_log_line_is_replaced(client: FlaskClient) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": "x\\n2026 ERROR forged"})
    assert answer.headers["X-Request-ID"] != "x\\n2026 ERROR forged"
    assert len(answer.headers["X-Request-ID"]) == 16


def test_requests_without_one_get_a_new_id_each(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    assert first != client.get("/healthz").headers["X-Request-ID"]
