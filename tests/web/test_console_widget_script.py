"""The widget's public pages: the script websites embed and the demo page, signed out."""

from __future__ import annotations

from dataclasses import replace

from flask.testing import FlaskClient

from server import create_app
from settings import Settings


def test_the_script_is_javascript_cached_for_an_hour_then_revalidated(
    client: FlaskClient,
) -> None:
    with client.get("/widget.js") as reply:
        assert reply.status_code == 200
        assert reply.mimetype == "text/javascript"
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.cache_control.public
        assert reply.cache_control.max_age == 3600
        assert "X-Visitor-Token" in reply.get_data(as_text=True)
    with client.get("/widget.js", headers={"If-None-Match": reply.headers["ETag"]}) as again:
        assert again.status_code == 304


def test_the_demo_page_embeds_the_script_for_a_visitor_who_is_not_signed_in(
    client: FlaskClient,
) -> None:
    reply = client.get("/widget-demo")

    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert '<script src="/widget.js" data-parley-title="Acme Outdoor support" defer>' in page
    assert "Acme Outdoor: a demo website" in page


def test_the_demo_snippet_points_at_parleys_public_address(service_settings: Settings) -> None:
    app = create_app(replace(service_settings, public_url="https://parley.example/"))
    try:
        page = app.test_client().get("/widget-demo").get_data(as_text=True)
    finally:
        app.extensions["parley"].close()

    assert '&lt;script src="https://parley.example/widget.js"' in page


def test_the_demo_page_speaks_the_browsers_language(client: FlaskClient) -> None:
    reply = client.get("/widget-demo", headers={"Accept-Language": "zh-CN,zh;q=0.9"})

    page = reply.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert 'data-parley-title="Acme Outdoor 客服"' in page
    assert "嵌入到你的网站" in page
