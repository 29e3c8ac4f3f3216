"""Recording messages: deduplication by channel message id, and the conversation's figures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.conversations import record_message
from chat.models import Conversation, Message, Sender

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
AddConversation = Callable[..., Conversation]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def conversation(add_conversation: AddConversation) -> Conversation:
    """A Messenger conversation received at T0, no messages yet."""
    return add_conversation()


@pytest.fixture
def say(session: Session, conversation: Conversation) -> Callable[..., Message]:
    """Records a message of `conversation` from `sender`, `seconds` after T0."""

    def record(sender: Sender, seconds: float, **options: Any) -> Message:
        options.setdefault("text", f"{sender} at {seconds}s")
        return record_message(session, conversation, sender=sender, at=at(seconds), **options)[0]

    return record


def stored_messages(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Message)) or 0


def test_a_message_is_stored_with_the_conversation_channel(
    session: Session, conversation: Conversation
) -> None:
    message, created = record_message(
        session,
        conversation,
        sender="visitor",
        text="Hello",
        at=at(1),
        channel_message_id="mid.1",
        attachments=[{"type": "image", "url": "https://example.com/cat.png"}],
    )
    assert created
    assert (message.channel, message.text, message.created_at) == ("messenger", "Hello", at(1))
    assert message.attachments == [{"type": "image", "url": "https://example.com/cat.png"}]


def test_a_redelivered_message_is_stored_once_and_counted_once(
    session: Session, conversation: Conversation
) -> None:
    first = record_message(
        session, conversation, sender="visitor", text="Hi", at=at(1), channel_message_id="mid.1"
    )
    again = record_message(
        session, conversation, sender="visitor", text="Hi", at=at(1), channel_message_id="mid.1"
    )
    assert again.created is False
    assert again.message.id == first.message.id
    assert stored_messages(session) == 1
    assert (conversation.message_count, conversation.visitor_message_count) == (1, 1)


def test_the_same_channel_message_id_on_another_channel_is_another_message(
    session: Session, conversation: Conversation, add_conversation: AddConversation
) -> None:
    widget = add_conversation(channel="widget")
    record_message(
        session, conversation, sender="visitor", text="a", at=at(1), channel_message_id="7"
    )
    _, created = record_message(
        session, widget, sender="visitor", text="b", at=at(1), channel_message_id="7"
    )
    assert created
    assert stored_messages(session) == 2


def test_messages_without_a_channel_message_id_are_never_merged(
    session: Session, say: Callable[..., Message]
) -> None:
    say("bot", 1, text="Welcome")
    say("bot", 1, text="Welcome")
    assert stored_messages(session) == 2


def test_counts_by_sender(conversation: Conversation, say: Callable[..., Message]) -> None:
    for sender, seconds in [("visitor", 1), ("bot", 2), ("visitor", 3), ("system", 4)]:
        say(sender, seconds)
    say("agent", 5, member_id=None, off_platform=True)
    say("agent", 6)
    counts = (
        conversation.message_count,
        conversation.visitor_message_count,
        conversation.agent_message_count,
    )
    assert counts == (6, 2, 2)


def test_first_visitor_message_is_kept(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    say("bot", 1)
    say("visitor", 5)
    say("visitor", 9)
    assert conversation.first_visitor_message_at == at(5)


def test_first_response_ignores_bot_messages(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    say("visitor", 10)
    say("bot", 12)
    assert conversation.first_response_seconds is None
    say("agent", 100)
    say("agent", 500)
    assert conversation.first_response_seconds == 90


def test_an_off_platform_reply_is_a_first_response(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    say("visitor", 0)
    say("agent", 42, off_platform=True)
    assert conversation.first_response_seconds == 42
    assert conversation.agent_message_count == 1


def test_an_agent_message_before_the_visitor_wrote_is_no_response(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    say("agent", 0)
    assert conversation.first_response_seconds is None
    say("visitor", 60)
    say("agent", 75)
    assert conversation.first_response_seconds == 15


def test_waiting_since_follows_who_spoke_last(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    say("visitor", 10)
    say("visitor", 20)
    assert conversation.waiting_since == at(10)
    say("bot", 30)
    assert conversation.waiting_since == at(10)
    say("agent", 40)
    assert conversation.waiting_since is None
    say("visitor", 50)
    assert conversation.waiting_since == at(50)
    say("agent", 60, off_platform=True)
    assert conversation.waiting_since is None


def test_system_messages_leave_waiting_alone(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    say("visitor", 10)
    say("system", 20, text="Assigned to Bea")
    assert conversation.waiting_since == at(10)


def test_last_activity_never_moves_back(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    say("visitor", 60)
    say("visitor", 30)  # delivered late
    assert conversation.last_activity_at == at(60)


def test_figures_are_stored_with_the_message(
    session: Session,
    conversation: Conversation,
    say: Callable[..., Message],
    new_session: Callable[[], Session],
) -> None:
    say("visitor", 10)
    say("agent", 70)
    session.commit()
    with new_session() as other:
        stored = other.get_one(Conversation, conversation.id)
        figures = (stored.message_count, stored.first_response_seconds, stored.waiting_since)
        assert figures == (2, 60, None)
        assert stored.last_activity_at == at(70)


def test_unsaved_changes_to_the_conversation_survive_recording(
    conversation: Conversation, say: Callable[..., Message]
) -> None:
    conversation.tags = ["refund"]
    say("visitor", 1)
    assert conversation.tags == ["refund"]


def test_a_naive_time_is_refused(session: Session, conversation: Conversation) -> None:
    naive = datetime(2026, 1, 1, 9, 0)
    with pytest.raises(ValueError, match="naive datetime"):
        record_message(session, conversation, sender="visitor", text="Hi", at=naive)


def test_concurrent_deliveries_store_each_message_once_and_count_it_once(
    session: Session, conversation: Conversation, new_session: Callable[[], Session]
) -> None:
    session.commit()
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def deliver(number: int) -> None:
        try:
            start.wait()  # outside any transaction: SQLite's writers queue for its lock
            with new_session() as own:
                mine = own.get_one(Conversation, conversation.id)
                record_message(
                    own,
                    mine,
                    sender="visitor",
                    text="hi",
                    at=at(1),
                    channel_message_id=f"m{number}",
                )
                own.commit()
        except BaseException as error:  # handed to the test thread below
            failures.append(error)

    workers = [threading.Thread(target=deliver, args=(n % 4,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    session.refresh(conversation)
    assert (stored_messages(session), conversation.message_count) == (4, 4)


def test_a_visitor_message_moves_the_contacts_last_seen_time(
    session: Session, add_conversation: Callable[..., Conversation]
) -> None:
    conversation = add_conversation()
    later = conversation.contact.last_seen_at + timedelta(hours=2)
    record_message(session, conversation, sender="visitor", text="hi", at=later)
    record_message(session, conversation, sender="bot", text="hello", at=later + timedelta(1))
    assert conversation.contact.last_seen_at == later
