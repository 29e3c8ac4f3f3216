"""What a conversation's page shows beside its row: its messages, and who it may be given to.

The messages come only through `chat.inbox.find_conversation`, so a member reads the messages
of the conversations they see and of no other.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.inbox import find_conversation
from chat.models import Member, Message


def conversation_messages(session: Session, member: Member, conversation_id: int) -> list[Message]:
    """The messages of a conversation `member` sees, oldest first; `NotFound` otherwise."""
    find_conversation(session, member, conversation_id)
    query = select(Message).where(Message.conversation_id == conversation_id)
    return list(session.scalars(query.order_by(Message.id)))


def workspace_members(session: Session, member: Member) -> list[Member]:
    """The members of `member`'s workspace by name: those a conversation may be assigned to."""
    query = select(Member).where(Member.workspace_id == member.workspace_id)
    return list(session.scalars(query.order_by(Member.name, Member.id)))
