"""What the chat layer hands to the world outside it, through an interface its caller gives.

The chat layer knows no channel: after a command's transaction has committed, what leaves
Parley (a flow's email, a flow's webhook) goes to a `Deliveries`, and the emails about
waiting visitors to a `Mailbox`, which `channels` implements and `web.services` wires in.
Data still moves one way: chat → channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Undelivered(Exception):
    """What a `Mailbox` raises when the message was not taken; the message says why."""


class Mailbox(Protocol):
    """Sends an email (the notification emails about waiting visitors)."""

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        """Hand the email to the mail server; `Undelivered` if it was not taken."""
        ...


class Deliveries(Protocol):
    """Carries out a command's part outside Parley, at most once per command; a failure is
    the channel's to log, and never undoes what the chat layer recorded."""

    def email(self, command: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
        """Send a flow's email; `facts` are what its template may read. Whether it went."""
        ...

    def webhook(self, command: Mapping[str, Any]) -> bool:
        """POST a flow's webhook body. Whether the target took it (a 2xx)."""
        ...
