"""The workspace and its conversations, made through the chat services, for the API's tests
and the console's list pages (members: see `tests.browser.harness.add_member`).

Each helper runs one transaction of its own through the service's outbox, as a request
would, so the engine events and the live notices of what it writes go out as they would.
Visitors write through `chat.visitors` (what the widget's API does); agents act through
`chat.inbox_actions`.
"""

from __future__ import annotations

from datetime import datetime

from flask.testing import FlaskClient
from playwright.sync_api import Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat import visitors
from chat.contacts import update_contact
from chat.inbox_actions import assign, end_conversation, reply
from chat.members import create_workspace
from chat.models import Conversation, Member
from chat.signin import sign_in
from tests.browser.harness import OWNER, PASSWORD
from web.console.base import SESSION_COOKIE
from web.services import Services


def owner_token(services: Services) -> str:
    """The workspace, Acme, made with its owner Olga Owner (`OWNER`); the owner's API token."""
    with services.outbox.transaction() as session:
        _, _, token = create_workspace(session, "Acme", OWNER, "Olga Owner")
        return token


def session_token(services: Services, email: str) -> str:
    """A new console session of the member `email`, as the sign-in page makes one."""
    with services.outbox.transaction() as session:
        _, token = sign_in(session, email, PASSWORD, services.now())
        return token


def signed_in_browser(page: Page, base_url: str, services: Services, email: str) -> None:
    """The browser of `page` signed in to the console at `base_url` as the member `email`, in
    whatever language (`tests.browser.harness.sign_in` fills the English sign-in form)."""
    token = session_token(services, email)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url}])


def signed_in(client: FlaskClient, services: Services, email: str) -> FlaskClient:
    """`client` signed in to the console as the member `email`."""
    client.set_cookie(SESSION_COOKIE, session_token(services, email))
    return client


def visitor(
    services: Services, name: str, at: datetime, *, remark: str | None = None, **contact: str
) -> tuple[int, str]:
    """A website visitor starts a conversation at `at`, their contact given a `remark` name
    (and `phone`, `email`); the conversation's id and the visitor's token."""
    with services.outbox.transaction() as session:
        conversation, token, _ = visitors.start(session, None, name, at)
        update_contact(session, conversation.contact, remark_name=remark, **contact)
        return conversation.id, token


def visitor_writes(
    services: Services, token: str, conversation_id: int, at: datetime, text: str = "Hello?"
) -> None:
    """The visitor writes in their conversation at `at`."""
    with services.outbox.transaction() as session:
        visitors.write(session, token, conversation_id, text, at)


def assigned(services: Services, conversation_id: int, member_id: int, at: datetime) -> None:
    """The owner gives the conversation to the member `member_id`."""
    with services.outbox.transaction() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assign(session, _owner(session), conversation, member_id, at=at)


def agent_replies(
    services: Services, member_id: int, conversation_id: int, at: datetime, text: str = "Hi!"
) -> None:
    """The member replies in the conversation at `at`."""
    with services.outbox.transaction() as session:
        conversation = session.get_one(Conversation, conversation_id)
        reply(session, session.get_one(Member, member_id), conversation, text, at)


def ended(services: Services, conversation_id: int, at: datetime) -> None:
    """The owner ends the conversation at `at`."""
    with services.outbox.transaction() as session:
        conversation = session.get_one(Conversation, conversation_id)
        end_conversation(session, _owner(session), conversation, at=at)


def _owner(session: Session) -> Member:
    return session.scalars(select(Member).where(Member.role == "owner")).one()
