"""A team and its conversations, made through the chat services, for the console's list pages.

Each helper runs one transaction of its own through the service's outbox, as a request
would, so the engine events and the live notices of what it writes go out as they would.
Visitors write through `chat.visitors` (what the widget's API does); agents act through
`chat.inbox_actions`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat import visitors
from chat.contacts import update_contact
from chat.inbox_actions import assign, end_conversation, reply
from chat.members import add_member, create_workspace
from chat.models import Conversation, Member, Workspace
from chat.signin import issue_password_link, sign_in, use_password_link
from web.services import Services

PASSWORD = "correct horse battery"


def team(services: Services) -> int:
    """A workspace with its owner (Olga, owner@example.com), who has a password; her id."""
    with services.outbox.transaction() as session:
        _, owner, _ = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
        _with_password(session, owner, services.now())
        return owner.id


def agent(services: Services, email: str, name: str, *permissions: str) -> int:
    """A new agent with a password and `permissions` (none: they see only their own); the id."""
    with services.outbox.transaction() as session:
        workspace = session.scalars(select(Workspace)).one()
        member = add_member(session, workspace, email, name, "agent", permissions)
        session.flush()
        _with_password(session, member, services.now())
        return member.id


def session_token(services: Services, email: str) -> str:
    """A console session of the member `email`, as the sign-in page makes one."""
    with services.outbox.transaction() as session:
        _, token = sign_in(session, email, PASSWORD, services.now())
        return token


def visitor(
    services: Services, name: str, at: datetime, *, remark: str | None = None
) -> tuple[int, str]:
    """A website visitor starts a conversation at `at`; its id and the visitor's token."""
    with services.outbox.transaction() as session:
        conversation, token, _ = visitors.start(session, None, name, at)
        if remark is not None:
            update_contact(session, conversation.contact, remark_name=remark)
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


def _with_password(session: Session, member: Member, now: datetime) -> None:
    use_password_link(session, issue_password_link(session, member, now), PASSWORD, now)
