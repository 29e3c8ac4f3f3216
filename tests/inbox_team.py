"""A workspace for the inbox tests: members with passwords, visitors writing through the chat
services (the widget's `chat.visitors`, Messenger's `chat.conversations`), agents replying."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from chat import visitors
from chat.conversations import open_conversation, record_message
from chat.inbox import find_conversation
from chat.inbox_actions import assign, reply
from chat.members import add_member, create_workspace, update_list_settings
from chat.models import ChannelIdentity, Contact, Member, Workspace
from chat.signin import issue_password_link, sign_in, use_password_link

PASSWORD = "correct horse battery"


class Team:
    """The workspace "Acme" with its owner "Olga"; members and conversations are added by name."""

    def __init__(self, app: Flask) -> None:
        self.services = app.extensions["parley"]
        self.now: Callable[[], datetime] = self.services.now  # the app's clock
        self.members: dict[str, int] = {}
        self.tokens: dict[int, str] = {}  # conversation id: the widget visitor's token
        with self.begin() as session:
            workspace, owner, _ = create_workspace(session, "Acme", "olga@example.com", "Olga")
            self.workspace_id = workspace.id
            self.members[owner.name] = owner.id

    def begin(self) -> AbstractContextManager[Session]:
        """A transaction of the app's, whose engine events and live notices go out on commit."""
        transaction: AbstractContextManager[Session] = self.services.outbox.transaction()
        return transaction

    def member(
        self,
        name: str,
        *,
        role: str = "agent",
        permissions: Iterable[str] = (),
        show_visitor_tags: bool = True,
        prefer_remark_name: bool = True,
    ) -> str:
        """Add a member with these list settings (and no password yet); their email."""
        with self.begin() as session:
            workspace = session.get(Workspace, self.workspace_id)
            assert workspace is not None
            email = f"{name.lower()}@example.com"
            added = add_member(session, workspace, email, name, role, permissions)
            session.flush()
            update_list_settings(
                session,
                added,
                show_visitor_tags=show_visitor_tags,
                prefer_remark_name=prefer_remark_name,
            )
            self.members[added.name] = added.id
        return email

    def password(self, name: str) -> str:
        """Give the member `name` the password PASSWORD (hashing is slow: only who signs in);
        their email."""
        with self.begin() as session:
            member = session.get(Member, self.members[name])
            assert member is not None
            link = issue_password_link(session, member, self.now())
            use_password_link(session, link, PASSWORD, self.now())
            return member.email

    def session_token(self, name: str) -> str:
        """A console session of the member `name`: the value of the browser's session cookie."""
        email = self.password(name)
        with self.begin() as session:
            _, token = sign_in(session, email, PASSWORD, self.now())
        return token

    def visitor(
        self,
        name: str,
        text: str | None = None,
        *,
        channel: str = "widget",
        remark: str | None = None,
        tags: Iterable[str] = (),
        assignee: str | None = None,
    ) -> int:
        """A visitor's new conversation (with their first message, if any); its id."""
        with self.begin() as session:
            if channel == "widget":
                conversation, token, _ = visitors.start(session, None, name, self.now())
                self.tokens[conversation.id] = token
            else:
                contact = Contact(workspace_id=self.workspace_id, name=name)
                contact.identities.append(
                    ChannelIdentity(channel="messenger", account="page-1", external_id=name)
                )
                session.add(contact)
                conversation, _ = open_conversation(
                    session, contact, "messenger", self.now(), account="page-1"
                )
            conversation.contact.remark_name = remark
            conversation.contact.tags = list(tags)
            if assignee is not None:
                assign(session, self._owner(session), conversation, self.members[assignee])
            conversation_id = conversation.id
        if text is not None:
            self.write(conversation_id, text)
        return conversation_id

    def write(self, conversation_id: int, text: str) -> None:
        """The visitor of the conversation writes `text`."""
        with self.begin() as session:
            if conversation_id in self.tokens:
                token = self.tokens[conversation_id]
                visitors.write(session, token, conversation_id, text, self.now())
                return
            conversation = find_conversation(session, self._owner(session), conversation_id)
            record_message(session, conversation, sender="visitor", text=text, at=self.now())

    def reply(self, conversation_id: int, name: str, text: str) -> None:
        """The member `name` replies in the conversation."""
        with self.begin() as session:
            agent = session.get(Member, self.members[name])
            assert agent is not None
            conversation = find_conversation(session, agent, conversation_id)
            reply(session, agent, conversation, text, self.now())

    def _owner(self, session: Session) -> Member:
        owner = session.get(Member, self.members["Olga"])
        assert owner is not None
        return owner
