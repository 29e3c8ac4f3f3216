"""Errors on console pages are words in the agent's language, never JSON or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from chat.members import create_workspace
from chat.signin import issue_password_link, sign_in, use_password_link
from engine.redis_server import EmbeddedRedis
from server import create_app
from settings import Settings


def test_a_form_posted_without_its_csrf_value_gets_a_page_saying_to_reload(
    client: FlaskClient,
) -> None:
    answer = client.post("/signin", data={"email": "a@example.com", "password": "x" * 12})
    assert answer.status_code == 403
    assert answer.mimetype == "text/html"
    assert "This form is out of date: reload the page and try again." in answer.text


def test_htmx_gets_the_error_as_a_fragment_in_chinese(client: FlaskClient) -> None:
    answer = client.post("/signout", headers={"HX-Request": "true", "Accept-Language": "zh-CN"})
    assert answer.status_code == 403
    assert answer.text.startswith('<p class="error" role="alert">此表单已过期')
    assert "<html" not in answer.text


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # as Chromium sends


def test_a_browser_at_an_address_nothing_serves_gets_a_console_page_in_its_language(
    client: FlaskClient,
) -> None:
    answer = client.get("/inbox/nowhere", headers={"Accept": BROWSER, "Accept-Language": "zh-CN"})
    assert (answer.status_code, answer.mimetype) == (404, "text/html")
    assert "这里什么也没有" in answer.text
    assert 'href="/inbox"' in answer.text  # a way back


def test_an_integrator_at_an_address_nothing_serves_gets_the_api_s_json(
    client: FlaskClient,
) -> None:
    for accept in ("application/json", "*/*", None):
        answer = client.get("/inbox/nowhere", headers={"Accept": accept} if accept else {})
        assert answer.status_code == 404, accept
        assert answer.get_json()["error"]["code"] == "not_found", accept


def test_live_notices_with_redis_away_answer_503_with_retry_after(
    tmp_path: Path, flows_dir: Path, db_url: str, own_redis: EmbeddedRedis
) -> None:
    settings = Settings(
        redis_url=own_redis.url, database_url=db_url, data_dir=tmp_path, flows_dir=flows_dir
    )
    app = create_app(settings)
    services = app.extensions["parley"]
    with services.sessions.begin() as session:
        _, owner, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
        link = issue_password_link(session, owner, services.now())
        use_password_link(session, link, "x" * 12, services.now())
        _, token = sign_in(session, "owner@example.com", "x" * 12, services.now())
    client = app.test_client()
    client.set_cookie("parley_session", token)
    own_redis.stop()
    with pytest.raises(redis.ConnectionError):  # nothing answers any more
        redis.Redis.from_url(own_redis.url).ping()
    answer = client.get("/live")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "Parley cannot reach its data at the moment; try again shortly." in answer.text
    services.close()
