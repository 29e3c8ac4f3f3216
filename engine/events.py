"""Events: what happened in a conversation, as versioned JSON the engine applies.

Every event carries the facts triggers need at that moment: the visitor and conversation
ids, the channel, whether the visitor is new (in their first conversation) or returning
(they had one before), the conversation's state for flows (`hosted` while bot hosting is
on, else `assigned` or `unassigned`) and the contact fields flows may read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

import orjson

from engine.codec import dumps
from engine.errors import InvalidInput

EVENT_VERSION = 1

EventType = Literal[
    "conversation.started",
    "message.received",
    "message.sent",
    "conversation.assigned",
    "conversation.unassigned",
    "conversation.hosting_changed",
    "conversation.ended",
    "button.clicked",
    "input.submitted",
    "timer.fired",
    "visitor.forgotten",
]
ConversationState = Literal["hosted", "assigned", "unassigned"]
EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType))
STATES: frozenset[str] = frozenset(get_args(ConversationState))
CONTACT_FIELDS = ("name", "remark_name", "display_name", "email", "phone", "tags")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to one visitor's conversation."""

    id: str  # unique per event: a redelivered event is recognised by it
    type: EventType
    visitor_id: str
    conversation_id: str
    at: float  # seconds since the epoch
    channel: str = ""
    is_new: bool = True
    state: ConversationState = "unassigned"
    contact: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    assignee: str | None = None  # the agent the conversation is assigned to, if any
    tags: tuple[str, ...] = ()  # the conversation's tags (the contact's are in `contact`)
    text: str | None = None  # message.received, message.sent, input.submitted
    sender: Literal["visitor", "agent", "bot"] = "visitor"
    off_platform: bool = False  # message.sent by an agent from the channel's own app
    flow: str | None = None  # message.sent by the bot: the flow that said it
    command: str | None = None  # message.sent by the bot: the key of the command it carried out
    payload: str | None = None  # button.clicked: the payload Parley put on the button
    timer: str | None = None  # timer.fired: which timer, as scheduled by the engine
    # message.received, button.clicked: email the agents if no agent has replied this many
    # seconds after the waiting streak began (None: the workspace sends no such emails)
    notify_after: float | None = None
    due: float | None = None  # timer.fired: when it fell due (its place in the schedule)
    # the chat layer's number for this fact among the visitor's, 1, 2, 3... in the order it
    # stored them: the engine applies them in that order (None: an event from elsewhere)
    seq: int | None = None
    version: int = EVENT_VERSION

    def to_json(self) -> bytes:
        """The event as JSON."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["contact"] = dict(self.contact)
        data["tags"] = list(self.tags)
        return dumps(data, sort_keys=True)


def timer_event(
    visitor_id: str,
    timer: str,
    due: float,
    now: float,
    *,
    conversation_id: str = "",
    channel: str = "",
) -> Event:
    """The event of a timer falling due. The schedule knows only the visitor, so the engine
    makes it without a place, and the runtime makes it again in the place of the visitor's
    last event (a timer carries no facts of its own)."""
    return Event(
        id=f"timer:{timer}",
        type="timer.fired",
        visitor_id=visitor_id,
        conversation_id=conversation_id,
        at=now,
        channel=channel,
        timer=timer,
        due=due,
    )


def parse_event(raw: str | bytes | Mapping[str, Any]) -> Event:
    """An Event from JSON text or a decoded mapping; raises InvalidInput naming the field."""
    data = _decode(raw)
    version = data.get("version", EVENT_VERSION)
    if version != EVENT_VERSION:
        raise InvalidInput("version", f"unsupported event version {version!r}")
    kind = _text(data, "type")
    if kind not in EVENT_TYPES:
        raise InvalidInput("type", f"unknown event type {kind!r}")
    state = data.get("state", "unassigned")
    if state not in STATES:
        raise InvalidInput("state", f"state must be one of {', '.join(sorted(STATES))}")
    sender = data.get("sender", "visitor")
    if sender not in ("visitor", "agent", "bot"):
        raise InvalidInput("sender", "sender must be visitor, agent or bot")
    return Event(
        id=_text(data, "id"),
        type=cast(EventType, kind),
        visitor_id=_text(data, "visitor_id"),
        # a forgotten visitor's conversations are gone with them
        conversation_id=(
            str(data.get("conversation_id") or "")
            if kind == "visitor.forgotten"
            else _text(data, "conversation_id")
        ),
        at=_number(data, "at"),
        channel=str(data.get("channel", "")),
        is_new=_flag(data, "is_new", default=True),
        state=state,
        contact=MappingProxyType(_contact(data.get("contact", {}))),
        assignee=_optional_text(data, "assignee"),
        tags=tuple(_strings(data, "tags")),
        text=_optional_text(data, "text"),
        sender=sender,
        off_platform=_flag(data, "off_platform", default=False),
        flow=_optional_text(data, "flow"),
        command=_optional_text(data, "command"),
        payload=_optional_text(data, "payload"),
        timer=_optional_text(data, "timer"),
        notify_after=None if data.get("notify_after") is None else _number(data, "notify_after"),
        due=None if data.get("due") is None else _number(data, "due"),
        seq=_sequence(data),
    )


def _decode(raw: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:  # also bytes that are not UTF-8
        raise InvalidInput("event", f"not JSON: {err}") from err
    if not isinstance(data, dict):
        raise InvalidInput("event", "an event is a JSON object")
    return data


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(name, "required, a non-empty string")
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    return value


def _number(data: Mapping[str, Any], name: str) -> float:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(name, "required, a number (seconds since the epoch)")
    return float(value)


def _sequence(data: Mapping[str, Any]) -> int | None:
    value = data.get("seq")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidInput("seq", "must be a whole number from 1")
    return value


def _flag(data: Mapping[str, Any], name: str, *, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(name, "must be true or false")
    return value


def _contact(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput("contact", "must be an object")
    unknown = set(value) - set(CONTACT_FIELDS)
    if unknown:
        raise InvalidInput("contact", f"unknown contact field {sorted(unknown)[0]!r}")
    _strings(value, "tags", "contact.")
    return dict(value)


def _strings(data: Mapping[str, Any], name: str, prefix: str = "") -> list[str]:
    values = data.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(prefix + name, "must be a list of strings")
    return values
