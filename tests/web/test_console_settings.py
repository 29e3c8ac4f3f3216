"""Settings in the console: own settings, the team and its invitations, alerts, Messenger."""

from __future__ import annotations

import dataclasses
import re
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from channels.email import SmtpSettings
from channels.messenger.sync import PageSync
from chat.members import add_member, create_workspace
from chat.models import PERMISSIONS, Member, MessengerSync, Workspace
from chat.signin import issue_password_link, sign_in, use_password_link
from tests.conftest import SmtpServer
from tests.fakes.graph_api import FakeGraphApi
from web.console.settings_team import PERMISSIONS as PERMISSION_NAMES

PASSWORD = "correct horse battery"
CSRF = "csrf-value-of-this-test"


def signed_in_client(app: Flask, email: str) -> FlaskClient:
    """A test client signed in as the member with `email`, with a CSRF cookie and header."""
    services = app.extensions["parley"]
    with services.sessions.begin() as session:
        member = session.scalars(select(Member).where(Member.email == email)).one()
        link = issue_password_link(session, member, services.now())
        use_password_link(session, link, PASSWORD, services.now())
        _, token = sign_in(session, email, PASSWORD, services.now())
    client = app.test_client()
    client.set_cookie("parley_session", token)
    client.set_cookie("parley_csrf", CSRF)
    client.environ_base["HTTP_X_CSRF_TOKEN"] = CSRF
    return client


@pytest.fixture
def workspace(app: Flask) -> int:
    """A workspace with its owner Olga and an agent Ana without permissions."""
    with app.extensions["parley"].sessions.begin() as session:
        found, _, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
        add_member(session, found, "ana@example.com", "Ana Agent", "agent")
        return found.id


@pytest.fixture
def owner(app: Flask, workspace: int) -> FlaskClient:
    return signed_in_client(app, "owner@example.com")


@pytest.fixture
def agent(app: Flask, workspace: int) -> FlaskClient:
    return signed_in_client(app, "ana@example.com")


def member(app: Flask, email: str) -> Member:
    with app.extensions["parley"].sessions() as session:
        found: Member = session.scalars(select(Member).where(Member.email == email)).one()
        return found


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


def test_settings_open_on_my_own_section_and_an_agent_sees_only_it(
    owner: FlaskClient, agent: FlaskClient
) -> None:
    assert owner.get("/settings").headers["Location"] == "/settings/me"
    owners = text(owner.get("/settings/me"))
    assert all(f'href="/settings/{s}"' in owners for s in ("me", "team", "alerts", "messenger"))
    agents = text(agent.get("/settings/me"))
    assert 'href="/settings/me"' in agents
    assert 'href="/settings/team"' not in agents
    assert agent.get("/settings/team").status_code == 403
    assert agent.get("/settings/messenger").status_code == 403


def test_my_list_settings_and_language_are_saved_and_the_page_speaks_it(
    app: Flask, agent: FlaskClient
) -> None:
    answer = agent.post("/settings/me", data={"show_visitor_tags": "on", "language": "zh_CN"})
    assert answer.headers["Location"] == "/settings/me?saved=1"
    saved = member(app, "ana@example.com")
    assert (saved.show_visitor_tags, saved.prefer_remark_name, saved.language) == (
        True,
        False,
        "zh_CN",
    )
    page = text(agent.get("/settings/me?saved=1"))
    assert '<html lang="zh-CN">' in page
    assert "我的设置" in page


def test_the_permission_names_cover_every_permission() -> None:
    assert set(PERMISSION_NAMES) == PERMISSIONS


def test_the_owner_invites_an_agent_and_without_smtp_sees_the_link_to_hand_over(
    app: Flask, owner: FlaskClient
) -> None:
    form = {"email": "Bo@Example.com", "name": "Bo", "role": "agent", "language": "en"}
    answer = owner.post("/settings/team/invitations", data={**form, "permission": "contacts.edit"})
    assert answer.status_code == 200
    body = text(answer)
    assert "No email server is set up: give Bo this link yourself." in body
    link = re.search(r'readonly value="http://127\.0\.0\.1:8000(/password/[^"]+)"', body)
    assert link, body
    assert "bo@example.com" in body  # the team list now holds the new member
    assert member(app, "bo@example.com").permissions == ["contacts.edit"]
    opened = app.test_client().get(link.group(1))
    assert "You sign in as bo@example.com." in text(opened)


def test_an_email_already_a_members_is_refused_at_the_field(owner: FlaskClient) -> None:
    form = {"email": "ana@example.com", "name": "Ana", "role": "agent"}
    answer = owner.post("/settings/team/invitations", data=form)
    assert answer.status_code == 422
    body = text(answer)
    assert 'aria-invalid="true" aria-describedby="invite-email-error"' in body
    assert re.search(r'id="invite-email-error">This email address is already a member', body)


def test_an_agent_who_may_manage_settings_sees_the_team_but_cannot_change_it(
    app: Flask, agent: FlaskClient
) -> None:
    with app.extensions["parley"].sessions.begin() as session:
        ana = session.scalars(select(Member).where(Member.email == "ana@example.com")).one()
        ana.permissions = ["settings.manage"]
        ana_id = ana.id
    team = text(agent.get("/settings/team"))
    assert "Only the owner or an admin changes the team." in team
    assert "Invite a member" not in team
    refused = agent.post(f"/settings/team/members/{ana_id}", data={"permission": "contacts.edit"})
    assert refused.status_code == 422
    assert "You may not do this: ask the workspace owner or an admin." in text(refused)
    assert member(app, "ana@example.com").permissions == ["settings.manage"]
    invite = agent.post("/settings/team/invitations", data={"email": "x@example.com", "name": "X"})
    assert "You may not do this" in text(invite)


def test_the_owner_changes_a_members_role_and_permissions(app: Flask, owner: FlaskClient) -> None:
    ana = member(app, "ana@example.com")
    form = {"role": "agent", "permission": ["conversations.view_all", "contacts.edit"]}
    answer = owner.post(f"/settings/team/members/{ana.id}", data=form)
    assert answer.status_code == 200
    assert "Saved." in text(answer)
    assert member(app, "ana@example.com").permissions == ["contacts.edit", "conversations.view_all"]
    owner.post(f"/settings/team/members/{ana.id}", data={"role": "admin"})
    assert member(app, "ana@example.com").role == "admin"


def test_only_the_owner_issues_a_password_link_for_the_owner(
    app: Flask, owner: FlaskClient
) -> None:
    ana = member(app, "ana@example.com")
    with app.extensions["parley"].sessions.begin() as session:
        session.get(Member, ana.id).role = "admin"
    admin = signed_in_client(app, "ana@example.com")
    olga = member(app, "owner@example.com")
    refused = admin.post(f"/settings/team/members/{olga.id}/password-link")
    assert refused.status_code == 422
    assert "You may not do this" in text(refused)
    for_ana = owner.post(f"/settings/team/members/{ana.id}/password-link")
    assert "Password link for Ana Agent" in text(for_ana)


@pytest.fixture
def mailing_app(app: Flask, smtp_server: SmtpServer) -> Flask:
    """The app with an SMTP server configured (the test's own, on loopback)."""
    services = app.extensions["parley"]
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none")
    services.settings = dataclasses.replace(services.settings, smtp=smtp)
    return app


def mail(smtp_server: SmtpServer, index: int = -1) -> EmailMessage:
    envelope = smtp_server.received[index]
    assert isinstance(envelope.content, bytes)
    found = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(found, EmailMessage)
    return found


def test_with_smtp_the_invitation_is_mailed_in_the_chosen_language_escaped(
    mailing_app: Flask, owner: FlaskClient, smtp_server: SmtpServer
) -> None:
    form = {"email": "li@example.com", "name": "<b>Li</b>", "role": "agent", "language": "zh_CN"}
    answer = owner.post("/settings/team/invitations", data=form)
    assert "A password link is on its way to li@example.com." in text(answer)
    assert "/password/" not in text(answer)  # the link went to Li only
    sent = mail(smtp_server)
    assert sent["To"] == "li@example.com"
    assert sent["Subject"] == "Olga Owner 邀请您加入 Parley"
    html = sent.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;b&gt;Li&lt;/b&gt;" in html
    plain = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http://127\.0\.0\.1:8000(/password/\S+)", plain)
    assert link, plain
    opened = mailing_app.test_client().get(link.group(1))
    assert opened.status_code == 200
    assert member(mailing_app, "li@example.com").language == "zh_CN"


def test_a_mail_server_that_refuses_leaves_the_link_on_the_page(
    mailing_app: Flask, owner: FlaskClient, smtp_server: SmtpServer
) -> None:
    smtp_server.refusals.append("554 5.0.0 no thanks")
    ana = member(mailing_app, "ana@example.com")
    answer = text(owner.post(f"/settings/team/members/{ana.id}/password-link"))
    assert "The email could not be sent" in answer
    assert re.search(r'readonly value="http://127\.0\.0\.1:8000/password/', answer)


def test_alerts_are_switched_on_with_a_waiting_time(app: Flask, owner: FlaskClient) -> None:
    answer = owner.post("/settings/alerts", data={"email": "on", "after_minutes": "25"})
    assert answer.status_code == 200
    assert "Saved." in text(answer)
    with app.extensions["parley"].sessions() as session:
        workspace = session.scalars(select(Workspace)).one()
        assert (workspace.notify_by_email, workspace.notify_after_minutes) == (True, 25)


@pytest.mark.parametrize("minutes", ["0", "10081", "soon", ""])
def test_a_bad_waiting_time_is_refused_at_the_field(owner: FlaskClient, minutes: str) -> None:
    answer = owner.post("/settings/alerts", data={"email": "on", "after_minutes": minutes})
    assert answer.status_code == 422
    body = text(answer)
    assert 'aria-invalid="true"' in body
    assert re.search(r'id="after-minutes-error">The waiting time is a whole number', body)


def test_a_page_is_connected_its_token_never_shown_and_a_sync_shows_progress(
    app: Flask, owner: FlaskClient, graph_api: FakeGraphApi
) -> None:
    page = graph_api.add_page(name="Acme Shop")
    graph_api.seed_conversations(page.id, 3, messages_each=4)
    form = {"page_id": page.id, "name": "Acme Shop", "access_token": page.token}
    connected = text(owner.post("/settings/messenger/pages", data=form))
    assert "The Page Acme Shop is connected." in connected
    assert page.token not in connected
    assert page.token not in text(owner.get("/settings/messenger"))

    started = owner.post(f"/settings/messenger/pages/{page.id}/syncs", data={"scope": "recent"})
    assert started.status_code == 202
    assert 'hx-trigger="every 2s"' in text(started)  # it polls while it runs
    services = app.extensions["parley"]
    PageSync(services.sessions, services.graph(), services.now).run_once()
    with services.sessions() as session:
        job_id = session.scalars(select(MessengerSync.id)).one()
    done = text(owner.get(f"/settings/messenger/syncs/{job_id}"))
    assert "Done" in done
    assert 'data-count="contacts">3<' in done
    assert "hx-trigger" not in done  # and stops once it has ended


def test_a_page_form_refused_by_the_apis_schema_keeps_the_values_but_not_the_token(
    owner: FlaskClient,
) -> None:
    form = {"page_id": "not a number", "name": "Shop", "access_token": "secret-token"}
    answer = owner.post("/settings/messenger/pages", data=form)
    assert answer.status_code == 422
    body = text(answer)
    assert "A Page ID is the Page&#39;s number" in body or "A Page ID is the Page's number" in body
    assert 'value="not a number"' in body
    assert "secret-token" not in body


def test_a_page_of_another_workspace_is_refused_at_the_field_as_by_the_api(
    app: Flask, owner: FlaskClient, graph_api: FakeGraphApi
) -> None:
    page = graph_api.add_page(name="Their Shop")
    with app.extensions["parley"].sessions.begin() as session:
        _, _, token = create_workspace(session, "Other", "olaf@example.com", "Olaf")
    form = {"page_id": page.id, "name": "Their Shop", "access_token": page.token}
    api = app.test_client()
    theirs = api.post("/channels/messenger/pages", json=form, headers=bearer(token))
    assert theirs.status_code == 201

    answer = owner.post("/settings/messenger/pages", data=form)
    assert answer.status_code == 422
    assert re.search(r'id="connect-page_id-error">This Page is connected to another', text(answer))
    with app.extensions["parley"].sessions.begin() as session:
        _, _, ours = create_workspace(session, "Third", "tess@example.com", "Tess")
    refused = api.post("/channels/messenger/pages", json=form, headers=bearer(ours))
    assert refused.status_code == 409
    assert refused.get_json()["error"] == {
        "code": "conflict",
        "message": "this Page is connected to another workspace",
        "field": "page_id",
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
