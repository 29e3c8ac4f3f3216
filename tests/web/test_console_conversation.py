"""The conversation page: messages, replies and the Messenger window, actions, the customer."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from chat.conversations import open_conversation, record_message
from chat.members import add_member, create_workspace
from chat.models import ChannelIdentity, Contact, Conversation, Member, Message, Workspace
from chat.signin import issue_password_link, sign_in, use_password_link
from web.services import Services

PASSWORD = "correct horse battery"
CSRF = "a-csrf-value-of-this-test"
HTMX = {"X-CSRF-Token": CSRF, "HX-Request": "true"}


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's services, with a workspace: Olga the owner and Arne, an agent who sees only
    the conversations assigned to him and holds no permission."""
    found: Services = app.extensions["parley"]
    with found.sessions.begin() as session:
        workspace, _, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
        add_member(session, workspace, "arne@example.com", "Arne Agent", "agent")
    return found


def console(app: Flask, services: Services, email: str, language: str | None = None) -> FlaskClient:
    """A browser signed in to the console as the member `email`."""
    now = services.now()
    with services.sessions.begin() as session:
        member = session.scalars(select(Member).where(Member.email == email)).one()
        member.language = language
        use_password_link(session, issue_password_link(session, member, now), PASSWORD, now)
        _, token = sign_in(session, email, PASSWORD, now)
    client = app.test_client()
    client.set_cookie("parley_session", token)
    client.set_cookie("parley_csrf", CSRF)
    return client


@pytest.fixture
def owner(app: Flask, services: Services) -> FlaskClient:
    """The owner's browser."""
    return console(app, services, "owner@example.com")


@pytest.fixture
def agent(app: Flask, services: Services) -> FlaskClient:
    """The agent's browser."""
    return console(app, services, "arne@example.com")


def widget_conversation(client: FlaskClient, text: str = "Hello, is anyone there?") -> int:
    """A visitor starts a widget conversation and writes; its id."""
    started = client.post("/widget/conversations", json={"name": "Wanda Visitor"}).get_json()
    headers = {"X-Visitor-Token": started["visitor_token"]}
    path = f"/widget/conversations/{started['conversation_id']}/messages"
    assert client.post(path, json={"text": text}, headers=headers).status_code == 201
    conversation_id: int = started["conversation_id"]
    return conversation_id


def messenger_conversation(services: Services, last_wrote: datetime) -> int:
    """A Messenger conversation whose visitor last wrote at `last_wrote`; its id."""
    with services.sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        contact = Contact(
            workspace_id=workspace.id, name="Mia", first_seen_at=last_wrote, last_seen_at=last_wrote
        )
        contact.identities.append(
            ChannelIdentity(channel="messenger", account="P1", external_id="U1")
        )
        session.add(contact)
        session.flush()
        conversation, _ = open_conversation(session, contact, "messenger", last_wrote, "P1")
        record_message(session, conversation, sender="visitor", text="Order?", at=last_wrote)
        return conversation.id


def allow_tags(services: Services, *tags: str) -> None:
    """Set the deployment's allowed Messenger tags (PARLEY_MESSENGER_ALLOWED_TAGS)."""
    messenger = dataclasses.replace(services.settings.messenger, allowed_tags=tags)
    services.settings = dataclasses.replace(services.settings, messenger=messenger)


def text_of(html: str) -> str:
    """The page's text with tags dropped and spaces squeezed, to read as an agent would."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_owner_reads_a_widget_conversation_with_its_parts_and_a_way_back(
    owner: FlaskClient,
) -> None:
    conversation_id = widget_conversation(owner)
    answer = owner.get(f"/inbox/{conversation_id}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<h1>Wanda Visitor</h1>" in html
    assert "Hello, is anyone there?" in html
    assert 'href="/inbox"' in html
    assert "Keyboard shortcuts" in html
    assert f'hx-get="/inbox/{conversation_id}/messages"' in html
    assert f"conversation[JSON.parse(detail.data).id=={conversation_id}] from:#live" in html


def test_a_conversation_the_member_does_not_see_is_not_found(
    owner: FlaskClient, agent: FlaskClient
) -> None:
    conversation_id = widget_conversation(owner)  # assigned to no one: not Arne's
    assert agent.get(f"/inbox/{conversation_id}").status_code == 404
    part = agent.get(f"/inbox/{conversation_id}/messages", headers=HTMX)
    assert part.status_code == 404
    assert part.headers["HX-Redirect"] == f"/inbox/{conversation_id}"


def test_an_agent_s_reply_shows_on_the_page_and_reaches_the_visitor(owner: FlaskClient) -> None:
    started = owner.post("/widget/conversations", json={"name": "Wanda"}).get_json()
    conversation_id = started["conversation_id"]
    sent = owner.post(f"/inbox/{conversation_id}/reply", data={"text": "Hi Wanda!"}, headers=HTMX)
    assert sent.status_code == 200
    assert "conversation-changed" in sent.headers["HX-Trigger"]
    assert "Hi Wanda!" not in sent.get_data(as_text=True)  # the reply box is empty again
    messages = owner.get(f"/inbox/{conversation_id}/messages").get_data(as_text=True)
    assert "Olga Owner" in messages
    assert "Hi Wanda!" in messages
    seen = owner.get(
        f"/widget/conversations/{conversation_id}/messages",
        headers={"X-Visitor-Token": started["visitor_token"]},
    ).get_json()
    assert [(m["sender"], m["text"]) for m in seen["messages"]] == [("agent", "Hi Wanda!")]


def test_a_reply_form_sent_twice_stores_the_reply_once(owner: FlaskClient) -> None:
    conversation_id = widget_conversation(owner)
    page = owner.get(f"/inbox/{conversation_id}").get_data(as_text=True)
    (client_id,) = re.findall(r'name="client_id" value="([0-9a-f]{32})"', page)
    form = {"text": "Hi Wanda!", "client_id": client_id}
    for _ in range(2):  # the answer to the first was lost, and the browser sent it again
        answer = owner.post(f"/inbox/{conversation_id}/reply", data=form, headers=HTMX)
        assert answer.status_code == 200
        assert client_id not in answer.get_data(as_text=True)  # the next reply gets a new id
    messages = owner.get(f"/inbox/{conversation_id}/messages").get_data(as_text=True)
    assert messages.count("Hi Wanda!") == 1


def test_an_empty_reply_is_refused_at_the_reply_box(owner: FlaskClient) -> None:
    conversation_id = widget_conversation(owner)
    answer = owner.post(f"/inbox/{conversation_id}/reply", data={"text": "  "}, headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'aria-describedby="reply-hint reply-error"' in html
    assert 'aria-invalid="true"' in html
    assert "A reply needs some text, at most 2000 characters." in html


def test_within_24_hours_the_window_is_open_and_the_reply_waits_to_be_sent(
    owner: FlaskClient, services: Services
) -> None:
    conversation_id = messenger_conversation(services, services.now() - timedelta(hours=1))
    page = text_of(owner.get(f"/inbox/{conversation_id}").get_data(as_text=True))
    assert "Reply window open until" in page
    assert "Message tag" not in page
    owner.post(f"/inbox/{conversation_id}/reply", data={"text": "On its way"}, headers=HTMX)
    messages = text_of(owner.get(f"/inbox/{conversation_id}/messages").get_data(as_text=True))
    assert "On its way" in messages
    assert "Waiting to be sent" in messages


def test_from_24_hours_to_7_days_replies_go_out_as_a_human_agent_s_without_a_picker(
    owner: FlaskClient, services: Services
) -> None:
    conversation_id = messenger_conversation(services, services.now() - timedelta(days=2))
    page = text_of(owner.get(f"/inbox/{conversation_id}").get_data(as_text=True))
    assert "The 24-hour reply window closed at" in page
    assert "your replies go out tagged as a human agent's" in page.replace("&#39;", "'")
    assert "Message tag" not in page
    owner.post(f"/inbox/{conversation_id}/reply", data={"text": "Sorry for the wait"}, headers=HTMX)
    messages = text_of(owner.get(f"/inbox/{conversation_id}/messages").get_data(as_text=True))
    assert "Tag: Human agent" in messages


def test_off_platform_replies_system_messages_and_failed_sends_are_marked(
    owner: FlaskClient, services: Services
) -> None:
    now = services.now()
    conversation_id = messenger_conversation(services, now - timedelta(hours=2))
    with services.sessions.begin() as session:
        conversation = session.get_one(Conversation, conversation_id)
        record_message(
            session,
            conversation,
            sender="agent",
            text="From the Page inbox",
            at=now,
            off_platform=True,
            channel_message_id="m_page",
        )
        record_message(session, conversation, sender="system", text="Assigned by a rule", at=now)
        failed = record_message(session, conversation, sender="bot", text="Hi!", at=now).message
        failed.delivery, failed.delivery_error = "failed", "graph_error: (#551) unavailable"
    html = owner.get(f"/inbox/{conversation_id}/messages").get_data(as_text=True)
    outside = re.search(r'<li [^>]*class="message from-agent off-platform".*?</li>', html, re.S)
    assert outside is not None
    assert '<span class="sender">Agent</span>' in outside.group()
    assert "Sent outside Parley" in outside.group()
    assert '<span class="sender">System</span>' in html
    assert '<span class="badge delivery-failed">Failed</span>' in html
    assert "(#551) unavailable" in html


def test_past_7_days_without_allowed_tags_the_reply_is_refused_in_words(
    owner: FlaskClient, services: Services
) -> None:
    conversation_id = messenger_conversation(services, services.now() - timedelta(days=8))
    page = text_of(owner.get(f"/inbox/{conversation_id}").get_data(as_text=True))
    assert "Reply window closed since" in page
    assert "this deployment allows none: no reply can be sent" in page
    answer = owner.post(f"/inbox/{conversation_id}/reply", data={"text": "Hello?"}, headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "Messenger&#39;s reply window has closed, so this reply was not sent" in html
    assert 'aria-describedby="reply-hint window-state reply-error"' in html
    assert ">Hello?</textarea>" in html  # the agent's text is kept


def test_past_7_days_the_agent_picks_an_allowed_tag_or_is_told_at_the_picker(
    owner: FlaskClient, services: Services
) -> None:
    allow_tags(services, "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE")
    conversation_id = messenger_conversation(services, services.now() - timedelta(days=9))
    page = owner.get(f"/inbox/{conversation_id}").get_data(as_text=True)
    assert '<option value="POST_PURCHASE_UPDATE">Post-purchase update</option>' in page
    path = f"/inbox/{conversation_id}/reply"
    refused = owner.post(path, data={"text": "Shipped", "tag": ""}, headers=HTMX)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert 'aria-describedby="window-state reply-error" aria-invalid="true"' in html
    sent = owner.post(path, data={"text": "Shipped", "tag": "POST_PURCHASE_UPDATE"}, headers=HTMX)
    assert sent.status_code == 200
    with services.sessions() as session:
        tags = session.scalars(select(Message.message_tag).where(Message.sender == "agent"))
        assert list(tags) == ["POST_PURCHASE_UPDATE"]


def test_the_owner_assigns_switches_hosting_tags_and_ends(
    owner: FlaskClient, services: Services
) -> None:
    conversation_id = widget_conversation(owner)
    base = f"/inbox/{conversation_id}"
    with services.sessions() as session:
        arne = session.scalars(select(Member.id).where(Member.name == "Arne Agent")).one()
    assigned = owner.post(f"{base}/assign", data={"assignee_id": str(arne)}, headers=HTMX)
    assert f'<option value="{arne}" selected>Arne Agent</option>' in assigned.get_data(as_text=True)
    hosting = owner.post(f"{base}/hosting", data={"on": "false"}, headers=HTMX)
    assert 'aria-pressed="false"' in hosting.get_data(as_text=True)
    tagged = owner.post(f"{base}/tags", data={"add": "refund"}, headers=HTMX)
    assert 'aria-label="Remove tag refund"' in tagged.get_data(as_text=True)
    untagged = owner.post(f"{base}/tags", data={"remove": "refund"}, headers=HTMX)
    assert "No tags." in untagged.get_data(as_text=True)
    ended = owner.post(f"{base}/end", headers=HTMX)
    assert "This conversation ended" in ended.get_data(as_text=True)
    header = text_of(owner.get(f"{base}/header").get_data(as_text=True))
    assert "Ended Assigned to Arne Agent Agents answer" in header
    assert "it takes no more replies" in owner.get(f"{base}/reply").get_data(as_text=True)


def test_assigning_to_someone_not_in_the_workspace_is_refused_at_the_select(
    owner: FlaskClient,
) -> None:
    conversation_id = widget_conversation(owner)
    answer = owner.post(f"/inbox/{conversation_id}/assign", data={"assignee_id": "x"}, headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404  # no such member
    assert 'aria-describedby="assign-error" aria-invalid="true"' in html
    assert "Choose a member of this workspace." in html


def test_an_agent_without_the_permission_sees_no_tag_control_and_a_forced_one_is_refused(
    owner: FlaskClient, agent: FlaskClient, services: Services
) -> None:
    conversation_id = widget_conversation(owner)
    with services.sessions.begin() as session:
        arne = session.scalars(select(Member).where(Member.name == "Arne Agent")).one()
        session.get_one(Conversation, conversation_id).assignee_id = arne.id
    page = agent.get(f"/inbox/{conversation_id}").get_data(as_text=True)
    assert 'id="new-tag"' not in page
    assert 'id="edit-remark_name"' not in page
    forced = agent.post(f"/inbox/{conversation_id}/tags", data={"add": "vip"}, headers=HTMX)
    assert forced.status_code == 403
    refusal = "You may not do this: ask the workspace owner or an admin."
    assert refusal in forced.get_data(as_text=True)


def test_the_remark_name_phone_and_email_are_edited_inline(owner: FlaskClient) -> None:
    conversation_id = widget_conversation(owner)
    base = f"/inbox/{conversation_id}/customer"
    editing = owner.get(f"{base}?edit=phone&focus=contact-phone").get_data(as_text=True)
    assert '<label for="contact-phone">Phone</label>' in editing
    saved = owner.post(base, data={"field": "remark_name", "value": "Big customer"}, headers=HTMX)
    assert saved.status_code == 200
    assert "contact-changed" in saved.headers["HX-Trigger"]
    assert "Big customer" in saved.get_data(as_text=True)
    assert "<h1>Big customer</h1>" in owner.get(f"/inbox/{conversation_id}/header").get_data(
        as_text=True
    )
    owner.post(base, data={"field": "phone", "value": "+44 20 7946 0958"}, headers=HTMX)
    owner.post(base, data={"field": "email", "value": "Wanda@Example.COM"}, headers=HTMX)
    panel = owner.get(base).get_data(as_text=True)
    assert "+442079460958" in panel
    assert "Wanda@example.com" in panel


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12345", "This is not a phone number: write + and the country code"),
        ("email", "wanda@", "Give a valid email address."),
        ("remark_name", "x" * 101, "A remark name has at most 100 characters."),
    ],
)
def test_a_bad_value_is_refused_at_its_field_and_kept_for_correction(
    owner: FlaskClient, field: str, value: str, message: str
) -> None:
    conversation_id = widget_conversation(owner)
    answer = owner.post(
        f"/inbox/{conversation_id}/customer", data={"field": field, "value": value}, headers=HTMX
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert f'aria-invalid="true" aria-describedby="contact-{field}-error"' in html
    assert message in html
    assert f'value="{value}"' in html


def test_a_customer_field_saved_by_the_browser_itself_comes_back_to_the_page(
    owner: FlaskClient,
) -> None:
    """Before htmx has taken the form over (a slow page, no JavaScript) the browser posts it
    as a plain form: it is saved, or refused on the whole page, all the same."""
    conversation_id = widget_conversation(owner)
    base, form = f"/inbox/{conversation_id}/customer", {"csrf_token": CSRF}
    saved = owner.post(base, data={**form, "field": "remark_name", "value": "Big customer"})
    assert (saved.status_code, saved.headers["Location"]) == (303, f"/inbox/{conversation_id}")
    assert "<h1>Big customer</h1>" in owner.get(f"/inbox/{conversation_id}").get_data(as_text=True)
    refused = owner.post(base, data={**form, "field": "phone", "value": "12345"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "<h1>Big customer</h1>" in page  # the whole page, the refusal at its field
    assert "This is not a phone number: write + and the country code" in page


def test_the_validation_message_is_in_the_agent_s_language(app: Flask, services: Services) -> None:
    chinese = console(app, services, "owner@example.com", language="zh_CN")
    conversation_id = widget_conversation(chinese)
    answer = chinese.post(
        f"/inbox/{conversation_id}/customer",
        data={"field": "phone", "value": "12345"},
        headers=HTMX,
    )
    assert "这不是电话号码" in answer.get_data(as_text=True)


def test_an_action_without_the_csrf_value_is_refused(owner: FlaskClient) -> None:
    conversation_id = widget_conversation(owner)
    answer = owner.post(f"/inbox/{conversation_id}/end", headers={"HX-Request": "true"})
    assert answer.status_code == 403
    assert "Ongoing" in owner.get(f"/inbox/{conversation_id}/header").get_data(as_text=True)


def test_the_owner_deletes_a_customer_from_the_panel_for_a_privacy_request(
    owner: FlaskClient, services: Services
) -> None:
    conversation_id = widget_conversation(owner)
    panel = owner.get(f"/inbox/{conversation_id}/customer").get_data(as_text=True)
    assert "Delete this customer…" in panel
    path = f"/inbox/{conversation_id}/delete-customer"
    unsure = owner.post(path, data={"csrf_token": CSRF})
    assert unsure.status_code == 400  # the box was not ticked: nothing is deleted
    assert owner.get(f"/inbox/{conversation_id}").status_code == 200
    done = owner.post(path, data={"csrf_token": CSRF, "confirm": "yes"})
    assert (done.status_code, done.headers["Location"]) == (303, "/inbox")
    assert owner.get(f"/inbox/{conversation_id}").status_code == 404
    with services.sessions() as session:
        assert session.scalars(select(Contact)).all() == []


def test_an_agent_is_not_offered_the_deletion_and_cannot_post_it(
    owner: FlaskClient, agent: FlaskClient, services: Services
) -> None:
    conversation_id = widget_conversation(owner)
    with services.sessions.begin() as session:
        arne = session.scalars(select(Member).where(Member.email == "arne@example.com")).one()
        found = session.get(Conversation, conversation_id)
        assert found is not None
        found.assignee_id = arne.id  # Arne sees the conversation, as its assignee
    panel = agent.get(f"/inbox/{conversation_id}/customer").get_data(as_text=True)
    assert "Delete this customer" not in panel
    path = f"/inbox/{conversation_id}/delete-customer"
    refused = agent.post(path, data={"csrf_token": CSRF, "confirm": "yes"})
    assert refused.status_code == 403
    with services.sessions() as session:
        assert len(session.scalars(select(Contact)).all()) == 1
