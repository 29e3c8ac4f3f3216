"""The fake Graph API's world: pages, people, conversations, messages and a movable clock.

No HTTP here: `graph_app` serves this state and `graph_webhooks` reports changes to it. Ids are
counters, so two runs of a test see the same ids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

DAY = 86_400.0
START_CLOCK = datetime(2026, 5, 1, 9, 0, tzinfo=UTC).timestamp()
MESSAGE_DETAIL_LIMIT = 20  # Graph shows details of a conversation's 20 newest messages only

ProfileAccess = Literal["full", "none", "phone_only"]


class GraphFault(Exception):
    """A Graph error the fake answers with: `{"error": {...}}` and an HTTP status."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        http_status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.http_status = http_status
        self.headers = headers or {}


def invalid(message: str, subcode: int | None = None) -> GraphFault:
    """Graph's catch-all code 100 ("Invalid parameter") with Graph's `(#100)` prefix."""
    return GraphFault(100, f"(#100) {message}", subcode=subcode)


def graph_time(seconds: float) -> str:
    """A clock reading as Graph writes times: 2026-05-01T09:00:00+0000."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Page:
    """A Facebook Page: its id, its Page access token, its name."""

    id: str
    token: str
    name: str
    human_agent: bool = True  # the Page holds Meta's Human Agent permission
    subscribed_fields: list[str] = field(default_factory=list)


@dataclass
class Person:
    """Someone who messages one Page; the PSID is scoped to that Page."""

    psid: str
    page_id: str
    first_name: str
    last_name: str
    profile: ProfileAccess = "full"
    last_inbound: float | None = None  # clock of their last message: the reply window's start

    @property
    def name(self) -> str:
        """First and last name, as Graph's `name` field."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Message:
    """One message of a conversation, from the person or from the Page."""

    mid: str
    created: float
    sender: str
    recipient: str
    text: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    quick_replies: list[dict[str, Any]] = field(default_factory=list)
    metadata: str | None = None


@dataclass
class Conversation:
    """The thread between a Page and one person; messages oldest first."""

    id: str
    page_id: str
    psid: str
    messages: list[Message] = field(default_factory=list)
    updated: float = 0.0


class GraphState:
    """Everything the fake knows, read and changed by the HTTP app and the test alike."""

    def __init__(self, clock: float = START_CLOCK) -> None:
        self.clock = clock
        self.pages: dict[str, Page] = {}
        self.people: dict[str, Person] = {}
        self.conversations: dict[str, Conversation] = {}
        self._by_person: dict[str, Conversation] = {}
        self._by_mid: dict[str, tuple[Conversation, Message]] = {}
        self._ids = itertools.count(1)

    def advance(self, seconds: float) -> None:
        """Move the clock forward: reply windows close, new messages are stamped later."""
        self.clock += seconds

    def next_id(self, prefix: str = "") -> str:
        """A fresh id: digits like Graph's numeric ids, after `prefix` when given."""
        return f"{prefix}{next(self._ids):015d}"

    def add_page(
        self, page_id: str | None = None, name: str = "Shop", token: str | None = None
    ) -> Page:
        """Create a Page; its token is made up unless given."""
        page_id = page_id or self.next_id("1")
        page = Page(page_id, token or f"EAAPage{page_id}", name)
        self.pages[page.id] = page
        return page

    def add_person(
        self,
        page_id: str,
        psid: str | None = None,
        first_name: str = "Ana",
        last_name: str = "Silva",
        profile: ProfileAccess = "full",
    ) -> Person:
        """A person known to a Page, who has not written yet (no reply window)."""
        person = Person(
            psid or self.next_id("2"), self.page(page_id).id, first_name, last_name, profile
        )
        self.people[person.psid] = person
        return person

    def page(self, page_id: str) -> Page:
        """The Page with this id, or Graph's 'object does not exist' error."""
        if page_id not in self.pages:
            raise missing_object(page_id)
        return self.pages[page_id]

    def person(self, psid: str) -> Person:
        """The person with this PSID, or Graph's 'object does not exist' error."""
        if psid not in self.people:
            raise missing_object(psid)
        return self.people[psid]

    def page_for_token(self, token: str | None) -> Page | None:
        """The Page a token belongs to; None for an unknown token."""
        return next((page for page in self.pages.values() if page.token == token), None)

    def conversation_with(self, person: Person) -> Conversation:
        """The person's thread with their Page, started on first use."""
        conversation = self._by_person.get(person.psid)
        if conversation is None:
            conversation = Conversation(self.next_id("t_"), person.page_id, person.psid)
            self._by_person[person.psid] = conversation
            self.conversations[conversation.id] = conversation
        return conversation

    def record(self, conversation: Conversation, message: Message) -> Message:
        """Add a message to its thread; a person's message (re)opens their reply window."""
        conversation.messages.append(message)
        conversation.updated = max(conversation.updated, message.created)
        self._by_mid[message.mid] = (conversation, message)
        if message.sender == conversation.psid:
            person = self.people[conversation.psid]
            person.last_inbound = max(person.last_inbound or message.created, message.created)
        return message

    def new_message(self, sender: str, recipient: str, **content: Any) -> Message:
        """A message stamped with the clock and a fresh mid (not yet in a thread)."""
        return Message(self.next_id("m_"), self.clock, sender, recipient, **content)

    def message(self, mid: str) -> tuple[Conversation, Message]:
        """A stored message and its thread; older than the 20 newest reads as deleted."""
        if mid not in self._by_mid:
            raise missing_object(mid)
        conversation, message = self._by_mid[mid]
        if message not in conversation.messages[-MESSAGE_DETAIL_LIMIT:]:
            raise invalid("Message has been deleted")
        return conversation, message

    def seed_conversations(
        self,
        page_id: str,
        n: int,
        messages_each: int = 25,
        *,
        spacing: float = 60.0,
        profile: ProfileAccess = "full",
    ) -> list[Conversation]:
        """n people with a thread each, newest first, `spacing` seconds between threads.

        Messages alternate person/Page one second apart and end with the person's, so the
        newest thread's window opened at the clock and older ones' earlier.
        """
        page = self.page(page_id)
        seeded = []
        for index in range(n):
            person = self.add_person(page.id, None, "Visitor", str(index + 1), profile)
            conversation = self.conversation_with(person)
            newest = self.clock - index * spacing
            for age in range(messages_each - 1, -1, -1):
                sender, recipient = (
                    (person.psid, page.id) if age % 2 == 0 else (page.id, person.psid)
                )
                message = Message(self.next_id("m_"), newest - age, sender, recipient)
                message.text = f"message {messages_each - age} of thread {index + 1}"
                self.record(conversation, message)
            seeded.append(conversation)
        return seeded


def missing_object(object_id: str) -> GraphFault:
    """Graph's answer for an id it does not know or may not show."""
    return invalid(
        f"Unsupported request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation",
        subcode=33,
    )
