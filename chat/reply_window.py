"""Parley's Messenger reply-window policy, on Meta's rules (see docs/messenger.md): the chat
layer judges an agent's reply with it when it is written, the Messenger sender again when it
goes out, so what one accepts the other sends.

From the visitor's last message: under 24 hours anyone may reply (`RESPONSE`); from 24 hours
to 7 days a human agent's reply goes out tagged `HUMAN_AGENT`, added here, and the bot stays
silent; past 7 days a reply needs a tag from the deployment's allowed list, which is empty
by default, so the window is simply closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from chat.errors import Conflict

RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT = "HUMAN_AGENT"


class WindowClosed(Conflict):
    """A reply this conversation's window does not allow; the message says what would."""

    code = "window_closed"

    def __init__(self, message: str, field: str = "tag") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True, slots=True)
class Terms:
    """How a message goes out: its `messaging_type` and, for MESSAGE_TAG, its tag."""

    messaging_type: Literal["RESPONSE", "MESSAGE_TAG"]
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """What an agent may do now in a conversation, as the API shows it."""

    open_until: datetime | None  # free replies (and the bot) until then
    human_agent_until: datetime | None  # agents' replies, tagged HUMAN_AGENT, until then
    tag_required: bool  # past both: only with one of `allowed_tags`
    allowed_tags: tuple[str, ...]

    def as_json(self, now: datetime) -> dict[str, object]:
        """The window for the conversation API."""
        return {
            "open": self.open_until is not None and now < self.open_until,
            "open_until": _iso(self.open_until),
            "human_agent_until": _iso(self.human_agent_until),
            "tag_required": self.tag_required,
            "allowed_tags": list(self.allowed_tags),
        }


def window(last_visitor_at: datetime | None, now: datetime, allowed: tuple[str, ...]) -> Window:
    """The window of a conversation whose visitor last wrote at `last_visitor_at`."""
    if last_visitor_at is None:  # never wrote: Meta allows no reply at all
        return Window(None, None, True, allowed)
    human_until = last_visitor_at + HUMAN_AGENT_WINDOW
    return Window(last_visitor_at + RESPONSE_WINDOW, human_until, now >= human_until, allowed)


def agent_terms(
    last_visitor_at: datetime | None, now: datetime, allowed: tuple[str, ...], tag: str | None
) -> Terms:
    """How a human agent's reply goes out now, or WindowClosed saying why it cannot.

    Within 7 days Parley picks the terms itself and a `tag` given is not used. Past them only
    a tag of `allowed` goes, never HUMAN_AGENT (Meta refuses it there), even when listed.
    The API judges a reply with this when it is written and the sender again, with the tag
    the reply was accepted with, when it goes out: what one accepts the other sends, unless
    the reply waited past the window meanwhile.
    """
    if last_visitor_at is None:
        raise WindowClosed("the visitor has not written on Messenger yet, so no reply can be sent")
    age = now - last_visitor_at
    if age < RESPONSE_WINDOW:
        return Terms("RESPONSE")
    if age < HUMAN_AGENT_WINDOW:
        return Terms("MESSAGE_TAG", HUMAN_AGENT)
    if tag is not None and tag in allowed and tag != HUMAN_AGENT:
        return Terms("MESSAGE_TAG", tag)
    raise WindowClosed(_refusal(age.days, tuple(t for t in allowed if t != HUMAN_AGENT), tag))


def bot_terms(last_visitor_at: datetime | None, now: datetime) -> Terms | None:
    """How a flow's message goes out now; None outside the 24-hour window (it is skipped)."""
    if last_visitor_at is not None and now - last_visitor_at < RESPONSE_WINDOW:
        return Terms("RESPONSE")
    return None


def bot_skip_reason(last_visitor_at: datetime | None, now: datetime) -> str:
    """Why a flow's message was not sent, for the message's delivery error."""
    if last_visitor_at is None:
        return "window_closed: the visitor has not written on Messenger yet"
    hours = int((now - last_visitor_at).total_seconds() // 3600)
    return f"window_closed: the visitor last wrote {hours} h ago; flows may send only within 24 h"


def _refusal(days: int, allowed: tuple[str, ...], tag: str | None) -> str:
    if tag == HUMAN_AGENT:
        return (
            f"the visitor last wrote {days} days ago, and Messenger takes HUMAN_AGENT only "
            "within 7 days of it" + (f"; pick one of {', '.join(allowed)}" if allowed else "")
        )
    if not allowed:
        return (
            f"the reply window closed: the visitor last wrote {days} days ago, and past 7 days "
            "Messenger allows a reply only with a message tag; this deployment allows none "
            "(Meta retired the update tags on 2026-04-27)"
        )
    choices = ", ".join(allowed)
    if tag is None:
        return f"the visitor last wrote {days} days ago: pick a message tag, one of {choices}"
    return f"tag {tag!r} is not allowed; pick one of {choices}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
