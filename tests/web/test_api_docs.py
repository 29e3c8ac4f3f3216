"""The API reference page at /docs: the vendored Redoc, pointed at /openapi.json."""

from __future__ import annotations

from flask import Flask, url_for
from flask.testing import FlaskClient


def redoc_url(app: Flask) -> str:
    """Where the app serves the vendored Redoc bundle."""
    with app.test_request_context():
        return url_for("console.static", filename="vendor/redoc.standalone.js")


def test_the_page_loads_the_vendored_redoc_on_the_document(app: Flask, client: FlaskClient) -> None:
    reply = client.get("/docs")

    assert (reply.status_code, reply.mimetype) == (200, "text/html")
    page = reply.get_data(as_text=True)
    assert "<title>Parley API</title>" in page
    assert f'<script src="{redoc_url(app)}"></script>' in page
    assert '<redoc spec-url="/openapi.json"' in page
    assert "//" not in page  # every address is a path on this origin


def test_the_page_keeps_the_browser_on_this_origin(client: FlaskClient) -> None:
    policy = client.get("/docs").headers["Content-Security-Policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == "'self'"


def test_the_vendored_redoc_is_served_as_javascript(app: Flask, client: FlaskClient) -> None:
    with client.get(redoc_url(app)) as reply:
        assert (reply.status_code, reply.mimetype) == (200, "text/javascript")
        assert b"ReDoc Version: " in reply.get_data()
