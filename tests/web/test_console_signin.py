"""Signing in to the console: the owner's first password, sessions, sign-out, CSRF."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cli import main
from server import first_start

PASSWORD = "correct horse battery"


@pytest.fixture
def link(app: Flask) -> str:
    """The path of the owner's one-time password link, as the first start prints it."""
    first = first_start(app.extensions["parley"])
    assert first is not None
    return first.password_link.removeprefix("http://127.0.0.1:8000")


def csrf(client: FlaskClient, path: str) -> str:
    """The CSRF value of the form on the page at `path`."""
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def set_password(client: FlaskClient, link: str, password: str = PASSWORD) -> None:
    token = csrf(client, link)
    form = {"csrf_token": token, "password": password, "confirm": password}
    answer = client.post(link, data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)


def sign_in(client: FlaskClient, password: str = PASSWORD, next_: str = "") -> TestResponse:
    token = csrf(client, "/signin")
    form = {"csrf_token": token, "email": "OWNER@example.com", "password": password}
    if next_:
        form["next"] = next_
    return client.post("/signin", data=form)


def test_a_signed_out_visitor_of_the_console_is_sent_to_sign_in(client: FlaskClient) -> None:
    answer = client.get("/inbox")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/signin?next=/inbox"


def test_the_owner_sets_a_password_through_the_first_start_link_and_is_signed_in(
    client: FlaskClient, link: str
) -> None:
    set_password(client, link)
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert "<h1>Inbox</h1>" in inbox.get_data(as_text=True)


def test_a_password_link_works_once(client: FlaskClient, link: str) -> None:
    set_password(client, link)
    again = client.get(link)
    assert again.status_code == 410
    assert "has been used or is out of date" in again.get_data(as_text=True)


def test_a_short_password_is_refused_at_the_field(client: FlaskClient, link: str) -> None:
    token = csrf(client, link)
    answer = client.post(link, data={"csrf_token": token, "password": "short", "confirm": "short"})
    assert answer.status_code == 422
    assert "A password has 10 to 200 characters." in answer.get_data(as_text=True)


def test_the_owner_signs_in_with_email_and_password_and_goes_where_they_were_going(
    app: Flask, link: str
) -> None:
    set_password(app.test_client(), link)
    client = app.test_client()
    answer = sign_in(client, next_="/inbox?tab=mine")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/inbox?tab=mine"
    cookie = client.get_cookie("parley_session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_after_sign_in_a_link_to_another_site_leads_to_the_inbox(app: Flask, link: str) -> None:
    set_password(app.test_client(), link)
    answer = sign_in(app.test_client(), next_="//evil.example/")
    assert answer.headers["Location"] == "/inbox"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    app: Flask, link: str
) -> None:
    set_password(app.test_client(), link)
    answer = sign_in(app.test_client(), password="not the password")
    assert answer.status_code == 401
    assert "This email and password do not match a member." in answer.get_data(as_text=True)


def test_a_form_without_its_csrf_value_is_refused(app: Flask, link: str) -> None:
    set_password(app.test_client(), link)
    client = app.test_client()
    client.get("/signin")
    form = {"email": "owner@example.com", "password": PASSWORD}
    assert client.post("/signin", data=form).status_code == 403
    assert client.get_cookie("parley_session") is None


def test_signing_out_ends_the_session_for_good(app: Flask, client: FlaskClient, link: str) -> None:
    set_password(client, link)
    stolen = client.get_cookie("parley_session")
    assert stolen is not None
    client.post("/signout", data={"csrf_token": csrf(client, "/inbox")})
    thief = app.test_client()
    thief.set_cookie("parley_session", stolen.value)
    assert thief.get("/inbox").status_code == 302


def test_parley_members_password_link_gives_a_member_a_new_link(
    app: Flask, client: FlaskClient, link: str, cli_runner: CliRunner
) -> None:
    settings = app.extensions["parley"].settings
    env = {"DATABASE_URL": settings.database_url, "PARLEY_DATA_DIR": str(settings.data_dir)}
    result = cli_runner.invoke(main, ["members", "password-link", "Owner@Example.com"], env=env)
    assert result.exit_code == 0, result.output
    fresh = result.output.splitlines()[-1].removeprefix("http://127.0.0.1:8000")
    set_password(client, fresh, "another good password")
    assert client.get("/inbox").status_code == 200
