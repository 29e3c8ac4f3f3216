"""Who a flow's visitors are, for a member: the names behind the engine's drill-down rows.

The engine knows a visitor as `contact-<id>` and remembers the conversation of their last
trigger (`conversation_id`, as text). A member sees a name, and may open the chat, only for
the conversations `chat.permissions.visible_conversations` lets them see; other rows stay
anonymous (a conversation of another workspace, or one since deleted).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.models import Contact, Conversation, Member
from chat.permissions import visible_conversations


def conversation_names(
    session: Session, member: Member, conversation_ids: Iterable[str]
) -> dict[str, str]:
    """The contact's display name (the member's way) of each conversation they may see."""
    ids = {int(text) for text in conversation_ids if text.isdigit()}
    if not ids:
        return {}
    found = session.execute(
        select(Conversation.id, Contact)
        .join(Contact, Conversation.contact_id == Contact.id)
        .where(Conversation.id.in_(ids), visible_conversations(member))
    )
    return {
        str(conversation_id): contact.display_name(member.prefer_remark_name)
        for conversation_id, contact in found
    }
