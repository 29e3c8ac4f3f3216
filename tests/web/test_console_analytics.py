"""The flow analytics pages: figures, funnel, days, versions, visitors, CSV, permissions."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chat.members import add_member, create_workspace
from chat.models import Member
from chat.signin import issue_password_link, sign_in, use_password_link
from web.console.base import SESSION_COOKIE

PASSWORD = "correct horse battery"


def signed_in(app: Flask, client: FlaskClient, member: Member) -> FlaskClient:
    """`client` with a console session of `member`."""
    services = app.extensions["parley"]
    with services.sessions.begin() as session:
        session.add(member)
        link = issue_password_link(session, member, services.now())
        use_password_link(session, link, PASSWORD, services.now())
        _, token = sign_in(session, member.email, PASSWORD, services.now())
    client.set_cookie(SESSION_COOKIE, token)
    return client


@pytest.fixture
def owner_page(app: Flask, client: FlaskClient) -> FlaskClient:
    """A console client signed in as the workspace's owner, with three promo-card visitors."""
    with app.extensions["parley"].sessions.begin() as session:
        _, owner, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
    visit(client, "Carla Díaz", "carla@example.com")  # completed (and engaged)
    visit(client, "Bo Li", "not an email")  # engaged: answered, the card asks again
    visit(client, "Ana Ruiz", None)  # not engaged
    app.extensions["parley"].settle()
    return signed_in(app, client, owner)


def visit(client: FlaskClient, name: str, email: str | None) -> None:
    """A new website visitor: the promo card starts for them; they may fill it."""
    started = client.post("/widget/conversations", json={"name": name}).get_json()
    client.application.extensions["parley"].settle()
    if email is not None:
        headers = {"X-Visitor-Token": started["visitor_token"]}
        path = f"/widget/conversations/{started['conversation_id']}/inputs"
        assert client.post(path, json={"text": email}, headers=headers).status_code == 202


def text(html: str) -> str:
    """The page's text, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_list_shows_each_flow_with_its_figures_and_their_definitions(
    owner_page: FlaskClient,
) -> None:
    page = text(owner_page.get("/analytics").get_data(as_text=True))
    promo = "Spring promo for new website visitors promo-card conversation_started"
    assert f"{promo} 3 3 66.7% 33.3%" in page
    assert "Hand off to a person on request handoff message_received 0 0 0.0% 0.0%" in page
    assert "Engagement Engaged visitors out of triggered visitors." in page


def test_a_flow_shows_its_funnel_per_step_day_and_version(owner_page: FlaskClient) -> None:
    page = text(owner_page.get("/analytics/promo-card").get_data(as_text=True))
    assert "card 3 entered, 100.0% of triggered, 0.0% dropped off" in page
    assert "thanks 1 entered, 33.3% of triggered, 66.7% dropped off" in page
    assert "skipped 0 0.0% 100.0%" in page  # the table row
    assert re.search(r"\d{4}-\d\d-\d\d 3 3 66\.7% 33\.3%", page)  # today's row
    assert re.search(r"[0-9a-f]{12} \(current\) 3 3 66\.7% 33\.3%", page)


def test_the_visitors_filter_by_status_and_link_to_their_chat(owner_page: FlaskClient) -> None:
    html = owner_page.get("/analytics/promo-card?status=engaged").get_data(as_text=True)
    assert 'aria-label="Open the chat with Bo Li"' in html
    assert "Carla" not in html
    assert "Ana Ruiz" not in html
    assert re.search(r'<a class="avatar" href="/inbox/\d+"', html)
    assert ">BL</span>" in html


def test_the_csv_has_the_same_rows_under_the_same_filter(owner_page: FlaskClient) -> None:
    answer = owner_page.get("/analytics/promo-card/visitors.csv?status=completed")
    assert answer.mimetype == "text/csv"
    assert answer.is_streamed
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["name"], r["status"], r["channel"], r["triggers"]) for r in rows] == [
        ("Carla Díaz", "completed", "widget", "1")
    ]
    assert rows[0]["visitor_id"].startswith("contact-")
    everyone = owner_page.get("/analytics/promo-card/visitors.csv").get_data(as_text=True)
    assert len(everyone.splitlines()) == 4  # a header and three visitors


def test_the_visitors_are_paged(owner_page: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.console.analytics.PAGE_SIZE", 2)
    first = owner_page.get("/analytics/promo-card").get_data(as_text=True)
    assert first.count('class="avatar"') == 2
    following = re.search(r'href="([^"]+cursor=[^"#]+)[^"]*" rel="next"', first)
    assert following
    second = owner_page.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('class="avatar"') == 1
    assert "First page" in second
    assert 'rel="next"' not in second


def test_an_agent_without_view_all_gets_a_403_page_in_their_language(
    app: Flask, client: FlaskClient
) -> None:
    with app.extensions["parley"].sessions.begin() as session:
        workspace, _, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
        agent = add_member(session, workspace, "agent@example.com", "Ann Agent", "agent")
        agent.language = "zh_CN"
    signed_in(app, client, agent)
    for path in ("/analytics", "/analytics/promo-card", "/analytics/promo-card/visitors.csv"):
        answer = client.get(path)
        assert answer.status_code == 403
        assert "查看全部数据" in answer.get_data(as_text=True)


def test_a_visitors_name_never_becomes_a_spreadsheet_formula(
    app: Flask, client: FlaskClient
) -> None:
    with app.extensions["parley"].sessions.begin() as session:
        _, owner, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
    visit(client, '=HYPERLINK("https://evil.example")', None)
    signed_in(app, client, owner)
    rows = list(csv.reader(io.StringIO(client.get("/analytics/promo-card/visitors.csv").text)))
    assert rows[1][1] == '\'=HYPERLINK("https://evil.example")'


def test_a_forged_cursor_gets_a_page_not_a_json_error(owner_page: FlaskClient) -> None:
    answer = owner_page.get("/analytics/promo-card?cursor=forged")
    assert answer.status_code == 422
    assert "This page of visitors is out of date" in answer.text


def test_an_unknown_flow_is_a_404_page(owner_page: FlaskClient) -> None:
    answer = owner_page.get("/analytics/nope")
    assert answer.status_code == 404
    assert "No flow with the id nope is loaded." in answer.get_data(as_text=True)


def test_the_pages_style_sheet_is_served(client: FlaskClient) -> None:
    with client.get("/static/analytics.css") as answer:
        assert answer.status_code == 200
        assert answer.mimetype == "text/css"


def test_the_list_shows_what_the_last_reload_found_in_english_and_chinese(
    app: Flask, client: FlaskClient, flows_dir: Path
) -> None:
    services = app.extensions["parley"]
    with services.sessions.begin() as session:
        workspace, owner, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
        admin = add_member(session, workspace, "admin@example.com", "Adi Admin", "admin")
        admin.language = "zh_CN"
    handoff, broken = flows_dir / "handoff.yaml", flows_dir / "broken.yaml"
    handoff.write_text("id: handoff\n")
    broken.write_text("id: broken\ntrigger: {conversation_started: }\n")
    services.reload_flows()
    version = next(flow.version for flow in services.flows.current() if flow.id == "handoff")
    page = html.unescape(text(signed_in(app, client, owner).get("/analytics").text))
    assert "Hand off to a person on request handoff message_received" in page  # still runs
    assert "Problems found in the flow files" in page
    kept = f"The version loaded before keeps running: handoff, version {version}."
    assert f"{handoff} Did not load. {kept}" in page
    assert f"{broken} Did not load, and no earlier version of it is running." in page
    assert "Error at line 1, column 1: the flow is missing 'start' missing-key" in page
    chinese = html.unescape(text(signed_in(app, app.test_client(), admin).get("/analytics").text))
    assert "流程文件中发现的问题" in chinese
    # fragments between full-width commas and colons, which ruff's RUF001 takes for typos
    assert f"{handoff} 未加载。此前加载的版本继续运行" in chinese
    assert f"版本 {version}。" in chinese
    assert f"{broken} 未加载" in chinese
    assert "也没有该流程的早先版本在运行。" in chinese
    assert "第 1 行第 1 列有错误" in chinese


def test_the_list_says_nothing_of_problems_when_the_files_are_clean(
    owner_page: FlaskClient,
) -> None:
    assert "Problems found in the flow files" not in owner_page.get("/analytics").text
