"""Settings in the browser: inviting an agent (link shown, or mailed), permissions and their
effect, own settings and language, alerts, connecting a Messenger Page and syncing it."""

from __future__ import annotations

import dataclasses
import re
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from channels.email import SmtpSettings
from channels.messenger.sync import PageSync
from chat.members import add_member, create_workspace, issue_token
from chat.models import Workspace
from chat.signin import issue_password_link
from engine.ports import ManualClock
from tests.browser.harness import check_accessibility, screenshot
from tests.conftest import SmtpServer
from tests.fakes.graph_api import FakeGraphApi

PASSWORD = "correct horse battery"


@pytest.fixture
def live_app(live_app: Flask, base_url: str) -> Flask:
    """The harness's app, its links (password links in invitations) on the live server."""
    services = live_app.extensions["parley"]
    services.settings = dataclasses.replace(services.settings, public_url=base_url)
    return live_app


@pytest.fixture
def owner_page(live_app: Flask, live_server: str, page: Page) -> Page:
    """The browser signed in as Olga, the workspace's owner, through her password link."""
    services = live_app.extensions["parley"]
    with services.sessions.begin() as session:
        _, owner, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
        link = issue_password_link(session, owner, services.now())
    set_password(page, f"/password/{link}")
    return page


def set_password(page: Page, link: str) -> None:
    """Open a password link, set the password and arrive signed in, in the inbox."""
    page.goto(link)
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#confirm").press("Enter")
    expect(page.locator("h1")).to_have_text(re.compile("Inbox|收件箱"))


def invite(page: Page, email: str, name: str, *, language: str = "English") -> None:
    page.goto("/settings/team")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Language of the invitation and of their console").select_option(
        label=language
    )
    page.get_by_role("button", name="Invite", exact=True).click()


def test_the_owner_invites_an_agent_who_opens_the_shown_link_in_another_browser(
    owner_page: Page, browser: Browser, live_server: str
) -> None:
    owner_page.goto("/settings/team")
    check_accessibility(owner_page)
    invite(owner_page, "bo@example.com", "Bo Agent")

    link_box = owner_page.get_by_label(re.compile("Password link for Bo Agent"))
    expect(link_box).to_have_value(re.compile(re.escape(live_server) + "/password/"))
    expect(owner_page.get_by_text("No email server is set up")).to_be_visible()
    expect(
        owner_page.locator("#team").get_by_role("heading", name=re.compile("Bo Agent"))
    ).to_be_visible()
    owner_page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    owner_page.get_by_role("button", name="Copy link").click()
    expect(owner_page.get_by_text("Copied")).to_be_visible()
    check_accessibility(owner_page)
    screenshot(owner_page, "settings-team")

    agent = browser.new_context(base_url=live_server).new_page()
    set_password(agent, link_box.input_value())
    expect(agent.locator(".signout span")).to_have_text("Bo Agent")
    agent.context.close()


def mailed(smtp_server: SmtpServer) -> EmailMessage:
    content = smtp_server.received[-1].content
    assert isinstance(content, bytes)
    found = message_from_bytes(content, policy=policy.default)
    assert isinstance(found, EmailMessage)
    return found


def test_with_smtp_the_invitation_is_mailed_and_its_link_works(
    live_app: Flask,
    owner_page: Page,
    smtp_server: SmtpServer,
    browser: Browser,
    live_server: str,
) -> None:
    services = live_app.extensions["parley"]
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none")
    services.settings = dataclasses.replace(services.settings, smtp=smtp)
    invite(owner_page, "li@example.com", "Li Agent", language="简体中文")

    expect(
        owner_page.get_by_text("A password link is on its way to li@example.com.")
    ).to_be_visible()
    mail = mailed(smtp_server)
    assert mail["Subject"] == "Olga Owner 邀请您加入 Parley"
    plain = mail.get_body(("plain",))
    assert plain is not None
    link = re.search(re.escape(live_server) + r"/password/\S+", plain.get_content())
    assert link, plain.get_content()

    agent = browser.new_context(base_url=live_server).new_page()
    set_password(agent, link.group(0))
    expect(agent.locator("html")).to_have_attribute("lang", "zh-CN")  # the invitation's
    agent.context.close()


def test_an_agent_who_loses_view_all_no_longer_sees_others_conversations(
    live_app: Flask, owner_page: Page
) -> None:
    services = live_app.extensions["parley"]
    with services.sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        ana = add_member(
            session, workspace, "ana@example.com", "Ana", "agent", ["conversations.view_all"]
        )
        session.flush()
        ana_token = issue_token(session, ana)
    api = live_app.test_client()
    api.post("/widget/conversations", json={"name": "Vera Visitor"})
    as_ana = {"Authorization": f"Bearer {ana_token}"}
    assert len(api.get("/conversations", headers=as_ana).get_json()["conversations"]) == 1

    owner_page.goto("/settings/team")
    row = owner_page.locator(
        ".member", has=owner_page.get_by_role("heading", name=re.compile("Ana"))
    )
    see_all = row.get_by_label("See every conversation (else only their own)")
    expect(see_all).to_be_checked()
    see_all.uncheck()
    row.get_by_role("button", name="Save Ana").click()
    expect(row.get_by_role("status")).to_have_text("Saved.")

    assert api.get("/conversations", headers=as_ana).get_json()["conversations"] == []


def test_my_list_settings_and_the_language_change_and_the_page_speaks_chinese(
    owner_page: Page,
) -> None:
    owner_page.goto("/settings/me")
    check_accessibility(owner_page)
    owner_page.get_by_label("Show visitor tags").uncheck()
    owner_page.get_by_label("Console language").select_option(label="简体中文")
    owner_page.get_by_role("button", name="Save my settings").click()

    expect(owner_page.get_by_role("heading", name="我的设置")).to_be_visible()
    expect(owner_page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(owner_page.get_by_role("status")).to_have_text("已保存。")
    expect(owner_page.get_by_label("显示访客标签")).not_to_be_checked()
    expect(owner_page.locator("#prefer_remark_name")).to_be_checked()
    check_accessibility(owner_page)


def test_alerts_are_saved_and_a_bad_waiting_time_is_refused_at_the_field(
    owner_page: Page,
) -> None:
    owner_page.goto("/settings/alerts")
    owner_page.get_by_label("Email members about visitors waiting for a reply").check()
    minutes = owner_page.get_by_label("Waiting time (minutes)")
    minutes.fill("15")
    minutes.press("Enter")
    expect(owner_page.locator("#alerts").get_by_role("status")).to_have_text("Saved.")

    minutes.fill("0")
    owner_page.get_by_role("button", name="Save alerts").click()
    expect(minutes).to_have_attribute("aria-invalid", "true")
    expect(minutes).to_have_accessible_description(
        re.compile("The waiting time is a whole number of minutes, from 1 to 10080.")
    )
    check_accessibility(owner_page)
    owner_page.reload()
    expect(owner_page.get_by_label("Waiting time (minutes)")).to_have_value("15")


@pytest.mark.parametrize("locale", ["zh-CN"], indirect=True)
def test_a_chinese_browser_reads_the_team_section_in_chinese(owner_page: Page) -> None:
    owner_page.goto("/settings/team")
    expect(owner_page.get_by_role("heading", name="团队")).to_be_visible()
    expect(owner_page.get_by_role("button", name="邀请", exact=True)).to_be_visible()


def test_a_page_is_connected_and_a_sync_of_the_recent_100_shows_its_progress(
    live_app: Flask, owner_page: Page, graph_api: FakeGraphApi, clock: ManualClock
) -> None:
    shop = graph_api.add_page(name="Acme Shop")
    graph_api.seed_conversations(shop.id, 150, messages_each=2)
    graph_api.short_pages = 1  # the first page of conversations comes back half full
    owner_page.goto("/settings/messenger")
    check_accessibility(owner_page)
    owner_page.get_by_label("Page ID").fill(shop.id)
    owner_page.get_by_label("Page name").fill("Acme Shop")
    owner_page.get_by_label("Page access token").fill(shop.token)
    owner_page.get_by_role("button", name="Connect Page").click()
    expect(owner_page.get_by_text("The Page Acme Shop is connected.")).to_be_visible()
    expect(owner_page.get_by_role("rowheader", name="Acme Shop")).to_be_visible()
    assert shop.token not in owner_page.content()

    owner_page.get_by_label("The 100 most recent contacts").check()
    owner_page.get_by_role("button", name="Start sync").click()
    progress = owner_page.locator(f"#sync-{shop.id}")
    expect(progress).to_contain_text("Waiting for a worker")

    services = live_app.extensions["parley"]
    syncs = PageSync(services.sessions, services.graph(), services.now)
    assert syncs.run_once() == 1
    expect(progress).to_contain_text("Running")  # the fragment re-fetched itself
    expect(progress.locator('[data-count="contacts"]')).to_have_text("50")

    graph_api.short_pages = 0
    clock.advance(1)  # past the pause between two requests for a Page
    assert syncs.run_once() == 1
    expect(progress).to_contain_text("Done")
    expect(progress.locator('[data-count="contacts"]')).to_have_text("100")
    expect(progress.locator('[data-count="pages"]')).to_have_text("2")
    expect(progress.locator("[hx-trigger]")).to_have_count(0)  # and it stopped polling
    check_accessibility(owner_page)
    screenshot(owner_page, "settings-messenger")
