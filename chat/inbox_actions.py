"""What members do to conversations: assign, end, tag, switch bot hosting, reply.

Each action first checks that the actor sees the conversation, by the same rule as every query
(`chat.permissions.visible_conversations`), so a conversation loaded by id elsewhere cannot be
acted on by a member who could not find it. Each returns what changed and tells the engine
(`chat.news.tell`) in the same transaction; an action that changes nothing says so and tells
nothing, and repeating an action changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from chat.conversations import Recorded, record_message, sent_before
from chat.errors import Conflict, Invalid, NotFound
from chat.models import Conversation, Member, utcnow
from chat.news import tell
from chat.permissions import require, visible_conversations
from chat.reply_window import agent_terms
from chat.values import clean_tag, whole_number
from engine.events import EventType

REPLY_MAX = 2000  # Messenger's limit on a text message, and the widget's
MAX_BATCH = 500  # conversation ids in one hosting change


@dataclass(frozen=True, slots=True)
class Change:
    """What an action changed on a conversation, and the engine event that tells the flows."""

    conversation: Conversation
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name: (before, after)
    event: EventType | None = None  # None: nothing changed, or no engine event tells of it

    @property
    def changed(self) -> bool:
        """Whether the action changed anything."""
        return bool(self.fields)


def assign(
    session: Session,
    actor: Member,
    conversation: Conversation,
    assignee_id: int | None,
    *,
    at: datetime | None = None,
) -> Change:
    """Give the conversation to the member `assignee_id` of its workspace, or to no one (None)."""
    _check_visible(session, actor, conversation)
    if assignee_id is not None:
        _check_member(session, conversation.workspace_id, assignee_id)
    before = conversation.assignee_id
    if before == assignee_id:
        return Change(conversation)
    conversation.assignee_id = assignee_id
    session.flush()
    event: EventType = "conversation.unassigned" if assignee_id is None else "conversation.assigned"
    return _told(session, Change(conversation, {"assignee_id": (before, assignee_id)}, event), at)


def end_conversation(
    session: Session, actor: Member, conversation: Conversation, *, at: datetime | None = None
) -> Change:
    """End the conversation (at `at`, default now); ending an ended one changes nothing."""
    _check_visible(session, actor, conversation)
    if conversation.status == "ended":
        return Change(conversation)
    conversation.status = "ended"
    conversation.ended_at = at or utcnow()
    session.flush()
    change = Change(conversation, {"status": ("ongoing", "ended")}, "conversation.ended")
    return _told(session, change, conversation.ended_at)


def set_tags(
    session: Session,
    actor: Member,
    conversation: Conversation,
    add: Iterable[object] = (),
    remove: Iterable[object] = (),
) -> Change:
    """Add and remove conversation tags; needs `conversation_tags.manage`.

    New tags go at the end in the order given. No engine event tells of tags: the engine reads
    a conversation's tags from the next event about it.
    """
    require(actor, "conversation_tags.manage")
    _check_visible(session, actor, conversation)
    adding, removing = _tags("add", add), _tags("remove", remove)
    for tag in adding:
        if tag in removing:
            raise Invalid("remove", f"{tag!r} is both added and removed; say which")
    before = list(conversation.tags)
    after = [tag for tag in before if tag not in removing]
    after += [tag for tag in adding if tag not in after]
    if after == before:
        return Change(conversation)
    conversation.tags = after
    session.flush()
    return Change(conversation, {"tags": (before, after)})


def set_hosting(
    session: Session,
    actor: Member,
    *,
    conversation_ids: Sequence[object] | None = None,
    all_assigned: bool = False,
    on: bool,
    at: datetime | None = None,
) -> list[Conversation]:
    """Switch bot hosting on or off for the conversations listed, or for all assigned ones.

    Only conversations the actor sees count: an id they do not see is `NotFound`, and then none
    changes. `all_assigned` takes the ongoing conversations with an assignee that the actor
    sees. Returns the conversations whose hosting changed, by id; each is an engine
    `conversation.hosting_changed`.
    """
    if not isinstance(on, bool):
        raise Invalid("on", f"on is true or false, not {on!r}")
    if all_assigned:
        if conversation_ids is not None:
            raise Invalid("all", "give conversation_ids or all: true, not both")
        targets = _assigned(session, actor)
    elif conversation_ids is None:
        raise Invalid("conversation_ids", "give conversation_ids, or all: true")
    else:
        targets = _listed(session, actor, conversation_ids)
    changed = [conversation for conversation in targets if conversation.hosting != on]
    at = at or utcnow()
    for conversation in changed:
        conversation.hosting = on
    session.flush()
    for conversation in changed:
        event_id = f"hosting:{conversation.id}:{on}:{at.timestamp()}"
        tell(session, conversation, "conversation.hosting_changed", at, event_id)
    return changed


def reply(
    session: Session,
    agent: Member,
    conversation: Conversation,
    text: str,
    at: datetime,
    *,
    tag: str | None = None,
    allowed_tags: Iterable[str] = (),
    client_id: str | None = None,
) -> Recorded:
    """Record `agent`'s reply in the conversation, counted in its figures, and return it.

    On Messenger the reply window decides (chat.reply_window): inside it the reply goes as
    it is; past it, only with a message `tag` among `allowed_tags`, or the reply is refused
    (`WindowClosed`, a `Conflict` with code `window_closed`) with the way out in words.

    A reply carrying the `client_id` of one already in the conversation (its client
    retried a call whose answer it never got) is that reply, `created` False: nothing is
    stored, told or sent again.
    """
    _check_visible(session, agent, conversation)
    earlier = None if client_id is None else sent_before(session, conversation, client_id)
    if earlier is not None:  # before the checks: the conversation may have ended since
        return Recorded(earlier, created=False)
    if conversation.status == "ended":
        raise Conflict(f"conversation {conversation.id} has ended; a reply cannot be added")
    if not isinstance(text, str) or not text.strip():
        raise Invalid("text", "a reply needs some text")
    if len(text) > REPLY_MAX:
        raise Invalid("text", f"a reply has at most {REPLY_MAX} characters; this has {len(text)}")
    message_tag = _message_tag(conversation, at, tag, tuple(allowed_tags))
    recorded = record_message(
        session,
        conversation,
        sender="agent",
        text=text,
        at=at,
        member_id=agent.id,
        client_id=client_id,
    )
    if not recorded.created:  # a retry that raced the first call, which stored it meanwhile
        return recorded
    message = recorded.message
    message.message_tag = message_tag
    tell(
        session, conversation, "message.sent", at, f"reply:{message.id}", sender="agent", text=text
    )
    return recorded


def _message_tag(
    conversation: Conversation, at: datetime, tag: str | None, allowed: tuple[str, ...]
) -> str | None:
    if conversation.channel != "messenger":
        if tag is not None:
            raise Conflict("message tags are for Messenger only", field="tag", code="invalid_tag")
        return None
    return agent_terms(conversation.last_visitor_message_at, at, allowed, tag).tag


def _told(session: Session, change: Change, at: datetime | None) -> Change:
    if change.event is not None:
        at = at or utcnow()
        event_id = f"{change.event}:{change.conversation.id}:{at.timestamp()}"
        tell(session, change.conversation, change.event, at, event_id)
    return change


def _check_visible(session: Session, actor: Member, conversation: Conversation) -> None:
    query = select(Conversation.id).where(
        Conversation.id == conversation.id, visible_conversations(actor)
    )
    if session.scalar(query) is None:
        message = f"there is no conversation {conversation.id} that you can see"
        raise NotFound(message, field="conversation_id")


def _check_member(session: Session, workspace_id: int, assignee_id: object) -> None:
    member_id = whole_number("assignee_id", assignee_id)
    query = select(Member.id).where(Member.id == member_id, Member.workspace_id == workspace_id)
    if session.scalar(query) is None:
        message = f"there is no member {member_id} in this workspace"
        raise NotFound(message, field="assignee_id", code="invalid_assignee_id")


def _tags(field_name: str, raw: Iterable[object]) -> list[str]:
    if isinstance(raw, str):
        raise Invalid(field_name, "give the tags as a list, not one string")
    return list(dict.fromkeys(clean_tag(field_name, tag) for tag in raw))


def all_assigned_changes(session: Session, actor: Member, *, on: bool) -> int:
    """How many conversations `set_hosting(all_assigned=True, on=on)` would change now."""
    query = select(func.count()).select_from(Conversation)
    return session.scalar(query.where(*_ongoing_assigned(actor), Conversation.hosting != on)) or 0


def _assigned(session: Session, actor: Member) -> list[Conversation]:
    query = select(Conversation).where(*_ongoing_assigned(actor))
    return list(session.scalars(query.order_by(Conversation.id).with_for_update()))


def _ongoing_assigned(actor: Member) -> tuple[ColumnElement[bool], ...]:
    return (
        visible_conversations(actor),
        Conversation.assignee_id.is_not(None),
        Conversation.status == "ongoing",
    )


def _listed(session: Session, actor: Member, raw_ids: Sequence[object]) -> list[Conversation]:
    ids = _ids(raw_ids)
    query = select(Conversation).where(visible_conversations(actor), Conversation.id.in_(ids))
    found = list(session.scalars(query.order_by(Conversation.id).with_for_update()))
    missing = sorted(set(ids) - {conversation.id for conversation in found})
    if missing:
        listed = ", ".join(str(number) for number in missing)
        message = f"no conversation {listed} among those you can see; nothing was changed"
        raise NotFound(message, field="conversation_ids")
    return found


def _ids(raw: Sequence[object]) -> list[int]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise Invalid("conversation_ids", "give conversation_ids as a list of ids")
    if not raw:
        raise Invalid("conversation_ids", "give at least one conversation id")
    if len(raw) > MAX_BATCH:
        raise Invalid("conversation_ids", f"at most {MAX_BATCH} ids at once, not {len(raw)}")
    return list(dict.fromkeys(whole_number("conversation_ids", value) for value in raw))
