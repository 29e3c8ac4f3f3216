"""The console's inbox page: tabs with counts, the status filter, what a row shows, live part."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chat.models import Conversation
from tests.inbox_team import Team


@pytest.fixture
def team(app: Flask) -> Team:
    """Olga (owner), Ana (sees all) and Ben (sees only his own), with four conversations."""
    team = Team(app)
    team.member("Ana", permissions=["conversations.view_all"])
    team.member("Ben")
    team.visitor("Carla", "Where is my parcel?", assignee="Ana")
    team.visitor("Dan", "Hello", channel="messenger", remark="Dan the VIP", tags=["vip"])
    team.visitor("Eve", "Refund please", assignee="Ben")
    return team


def signed_in(app: Flask, team: Team, name: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("parley_session", team.session_token(name))
    return client


def text_of(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def tabs(html: str) -> dict[str, str]:
    """Each tab's label and count, as "Mine 1"."""
    found = re.findall(r'id="tab-(\w+)".*?>(\w+) <span class="count">(\d+)</span>', html, re.S)
    return {tab: f"{label} {count}" for tab, label, count in found}


def names(html: str) -> list[str]:
    return re.findall(r'<span class="name">([^<]*)</span>', html)


def test_each_tab_shows_its_count_and_view_all_members_get_the_all_tab(
    app: Flask, team: Team
) -> None:
    html = text_of(signed_in(app, team, "Ana"), "/inbox")
    assert tabs(html) == {"mine": "Mine 1", "unassigned": "Unassigned 1", "all": "All 3"}


def test_an_own_data_agent_has_no_all_tab_and_asking_for_it_shows_their_default(
    app: Flask, team: Team
) -> None:
    html = text_of(signed_in(app, team, "Ben"), "/inbox?tab=all")
    assert tabs(html) == {"mine": "Mine 1", "unassigned": "Unassigned 0"}
    assert names(html) == ["Eve"]


def test_the_default_tab_is_mine_when_the_member_has_some_else_unassigned(
    app: Flask, team: Team
) -> None:
    ana = text_of(signed_in(app, team, "Ana"), "/inbox")
    assert 'id="tab-mine" href="/inbox?tab=mine&amp;status=ongoing"' in ana
    assert re.search(r'id="tab-mine"[^>]*aria-current="page"', ana)
    olga = text_of(signed_in(app, team, "Olga"), "/inbox")
    assert re.search(r'id="tab-unassigned"[^>]*aria-current="page"', olga)
    assert names(olga) == ["Dan the VIP"]


def test_the_status_filter_shows_ended_conversations_and_counts_them(
    app: Flask, team: Team
) -> None:
    with team.begin() as session:
        ended = session.get(Conversation, 1)
        assert ended is not None
        ended.status = "ended"
    html = text_of(signed_in(app, team, "Ana"), "/inbox?tab=all&status=ended")
    assert names(html) == ["Carla"]
    assert tabs(html) == {"mine": "Mine 1", "unassigned": "Unassigned 0", "all": "All 1"}
    assert re.search(r'id="status-ended"[^>]*aria-current="page"', html)


def test_a_row_shows_preview_channel_time_assignee_tags_and_unread_count(
    app: Flask, team: Team
) -> None:
    team.write(2, "Anyone there?")
    html = text_of(signed_in(app, team, "Olga"), "/inbox?tab=unassigned")
    row = html[html.index('id="row-2"') :]
    assert 'href="/inbox/2"' in row
    assert 'aria-label="Messenger"' in row
    assert '<span class="preview">Anyone there?</span>' in row
    assert "just now" in row
    assert "Unassigned · Bot answering" in row
    assert '<span class="tag">vip</span>' in row
    assert '<span class="badge">2 unread</span>' in row


def test_a_human_reply_clears_the_unread_count_and_the_preview_says_who_wrote(
    app: Flask, team: Team
) -> None:
    team.reply(1, "Ana", "It left our warehouse today.")
    ana = text_of(signed_in(app, team, "Ana"), "/inbox?tab=mine")
    assert '<span class="preview">You: It left our warehouse today.</span>' in ana
    assert "unread" not in ana.split('id="row-1"')[1]
    olga = text_of(signed_in(app, team, "Olga"), "/inbox?tab=all")
    assert "Ana: It left our warehouse today." in olga
    assert "Assigned to Ana" in olga


def test_the_relative_time_runs_on_the_service_clock_in_the_members_language(
    app: Flask, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = team.now() + timedelta(minutes=3)
    monkeypatch.setattr(team.services, "now", lambda: later)
    client = signed_in(app, team, "Ana")
    assert "3 minutes ago" in text_of(client, "/inbox")
    client.set_cookie("parley_lang", "zh_CN")
    assert "3分钟前" in text_of(client, "/inbox")


def test_the_remark_name_and_visitor_tags_follow_each_members_own_settings(
    app: Flask, team: Team
) -> None:
    team.member(
        "Cai",
        permissions=["conversations.view_all"],
        prefer_remark_name=False,
        show_visitor_tags=False,
    )
    html = text_of(signed_in(app, team, "Cai"), "/inbox?tab=unassigned")
    assert names(html) == ["Dan"]
    assert 'class="tag"' not in html


def test_names_and_messages_are_escaped(app: Flask, team: Team) -> None:
    team.visitor("<b>Mallory</b>", "<script>alert(1)</script>")
    html = text_of(signed_in(app, team, "Olga"), "/inbox?tab=unassigned")
    assert "<b>Mallory</b>" not in html
    assert "<script>alert" not in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html


def test_the_live_part_is_the_tabs_and_rows_without_the_page_around_them(
    app: Flask, team: Team
) -> None:
    html = text_of(signed_in(app, team, "Ana"), "/inbox/rows?tab=all&status=ongoing")
    assert "<html" not in html
    assert tabs(html)["all"] == "All 3"
    assert names(html) == ["Eve", "Dan the VIP", "Carla"]


def test_older_conversations_are_a_page_further_and_a_foreign_cursor_is_explained(
    app: Flask, team: Team
) -> None:
    for number in range(50):
        team.visitor(f"Visitor {number}")
    client = signed_in(app, team, "Olga")
    first = text_of(client, "/inbox?tab=all")
    older = re.search(r'href="(/inbox\?tab=all&amp;status=ongoing&amp;cursor=[^"]+)"', first)
    assert older
    assert len(names(first)) == 50
    second = text_of(client, older.group(1).replace("&amp;", "&"))
    assert names(second) == ["Eve", "Dan the VIP", "Carla"]
    bad = text_of(client, "/inbox?tab=all&cursor=nonsense")
    assert "This link to older conversations is out of date" in bad
    assert len(names(bad)) == 50


def test_signed_out_the_live_part_sends_htmx_to_the_sign_in_page(client: FlaskClient) -> None:
    answer = client.get("/inbox/rows", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/signin")
