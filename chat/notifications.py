"""Emails to members when a visitor's message waits too long for an agent's reply.

The engine keeps the waiting timer, one per waiting streak (see docs/notifications.md).
When it fires, the engine's `notify` command reaches `queue_notifications`, which writes one
pending `Notification` per recipient: the assigned agent, or every member when nobody is
assigned. `NotificationSender`, a worker round of its own, sends them over SMTP; a send that
fails is tried again after a growing wait (chat.jobs' retry policy) and, after the last
try, marked failed with the reason, which the API shows. Nothing here runs while an event
is being handled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from chat.html import render_html
from chat.jobs import Failure, LeasedJobs, RetryPolicy
from chat.models import (
    Conversation,
    Member,
    Message,
    Notification,
    NotificationStatus,
    Workspace,
)
from chat.permissions import require
from chat.ports import Mailbox, Undelivered

# A refused email is tried again within a minute, then after about 3, 12 and 48 minutes
# (each wait four times the last, up to a fifth more at random): no later than the 1, 5, 15
# and 60 minutes of before, and over about as long. After the fifth try it has failed.
MAIL_RETRY = RetryPolicy(first=45.0, growth=4.0, cap=3600.0, attempts=5)
# A notification claimed this long ago by a worker that never finished it (the process died
# mid-send) is taken again: an email may then arrive twice, but is never lost.
SENDING_LEASE = timedelta(minutes=5)
LAST_MESSAGES = 5
log = logging.getLogger(__name__)


def queue_notifications(session: Session, conversation: Conversation, due: datetime) -> int:
    """Queue the emails, due at `due`, for a visitor who has waited since
    `conversation.waiting_since`; how many: none when notifications are off or the visitor
    was answered (or the conversation ended) while the command was on its way."""
    if not conversation.workspace.notify_by_email:
        log.info("conversation %s: email notifications are off", conversation.id)
        return 0
    since = conversation.waiting_since
    if conversation.status == "ended" or since is None:
        return 0  # answered (or ended) while the command was on its way
    members = _recipients(session, conversation)
    for member in members:
        session.add(
            Notification(
                conversation_id=conversation.id,
                member_id=member.id,
                email=member.email,
                waiting_since=since,
                status="pending",
                send_after=due,
                created_at=due,
            )
        )
    return len(members)


def _recipients(session: Session, conversation: Conversation) -> list[Member]:
    if conversation.assignee_id is not None:
        assignee = session.get(Member, conversation.assignee_id)
        if assignee is not None:
            return [assignee]
    everyone = select(Member).where(Member.workspace_id == conversation.workspace_id)
    return list(session.scalars(everyone.order_by(Member.id)))


@dataclass(frozen=True, slots=True)
class _Email:
    attempt: int
    to: str
    subject: str
    text: str
    html: str


@dataclass
class NotificationSender:
    """Sends due notification emails; failures wait and try again, never holding up others.

    A job of chat.jobs' runner: a worker that died mid-send leaves the email `sending` until
    its lease lapses, then it is taken again (so it may, rarely, arrive twice)."""

    sessions: sessionmaker[Session]
    mailer: Mailbox | None
    public_url: str
    now: Callable[[], datetime]
    table = Notification
    lease = SENDING_LEASE
    interrupted = None  # a lapsed email is taken again

    def run_once(self, limit: int = 10) -> int:
        """Send what is due now; how many notifications were taken."""
        return LeasedJobs(self).run_once(limit)

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Pending emails whose time has come."""
        return _reached("pending", now)

    def lapsed(self, now: datetime) -> ColumnElement[bool]:
        """Emails still `sending` past their lease (`send_after` holds its end then)."""
        return _reached("sending", now)

    def order(self) -> tuple[InstrumentedAttribute[Any], ...]:
        """The longest due first."""
        return (Notification.send_after, Notification.id)

    def take(
        self, session: Session, notification: Notification, now: datetime, until: datetime
    ) -> _Email | None:
        """Mark it sending and write the email, or settle it (cancelled, or no SMTP)."""
        conversation = session.get(Conversation, notification.conversation_id)
        stop = _why_not(conversation, self.mailer)
        if conversation is None or stop is not None:
            notification.status, notification.error = stop or ("cancelled", None)
            return None
        notification.status, notification.send_after = "sending", until
        notification.attempts += 1
        return self._email(session, notification, conversation, now)

    def _email(
        self,
        session: Session,
        notification: Notification,
        conversation: Conversation,
        now: datetime,
    ) -> _Email:
        name = conversation.contact.display_name(prefer_remark=True)
        minutes = max(1, int((now - notification.waiting_since).total_seconds() // 60))
        recent = session.scalars(
            select(Message.text)
            .where(Message.conversation_id == conversation.id, Message.sender == "visitor")
            .order_by(Message.id.desc())
            .limit(LAST_MESSAGES)
        ).all()
        link = f"{self.public_url.rstrip('/')}/inbox/{conversation.id}"  # the console's page
        subject, text, body = waiting_email(name, minutes, list(reversed(recent)), link)
        return _Email(notification.attempts, notification.email, subject, text, body)

    def do(self, email: _Email) -> Failure | None:
        """Hand the email to the SMTP server; every refusal is worth another try."""
        assert self.mailer is not None  # _why_not settles every notification when it is None
        try:
            self.mailer.send(email.to, email.subject, email.text, email.html)
        except Undelivered as err:
            return Failure(str(err)[:500], MAIL_RETRY)
        return None

    def done(self, session: Session, notification: Notification, email: _Email, _: None) -> None:
        """Sent."""
        notification.status, notification.sent_at = "sent", self.now()

    def failed(
        self,
        session: Session,
        notification: Notification,
        email: _Email,
        failure: Failure,
        again: datetime | None,
    ) -> None:
        """Back to `pending` until `again`, or failed; the error shown either way."""
        notification.error = failure.error
        if again is None:
            notification.status = "failed"
        else:
            notification.status, notification.send_after = "pending", again


def _reached(status: NotificationStatus, now: datetime) -> ColumnElement[bool]:
    return and_(Notification.status == status, Notification.send_after <= now)


def _why_not(
    conversation: Conversation | None, mailer: Mailbox | None
) -> tuple[NotificationStatus, str | None] | None:
    """The status (and error) to settle a notification with instead of sending it, if any."""
    if conversation is None:
        return "cancelled", None
    if not conversation.workspace.notify_by_email:
        return "cancelled", "email notifications were switched off before it went out"
    if mailer is None:
        return "failed", "no SMTP server is configured (PARLEY_SMTP_HOST)"
    return None


def waiting_email(name: str, minutes: int, messages: list[str], link: str) -> tuple[str, str, str]:
    """The subject, plain text and HTML of the email about `name` waiting `minutes`."""
    name = " ".join(name.split())  # a name is one line in a subject, whatever was typed
    waited = f"{minutes} minute{'s' if minutes != 1 else ''}"
    subject = f"{name} has been waiting {waited} for a reply"
    quoted = "\n".join(f"> {text}" for text in messages)
    text = f"{name} has been waiting {waited} for a reply.\n\n{quoted}\n\nReply: {link}\n"
    facts = {"name": name, "waited": waited, "messages": messages, "link": link}
    return subject, text, render_html(_WAITING_HTML, facts)


_WAITING_HTML = (
    "<p><strong>{{ name }}</strong> has been waiting {{ waited }} for a reply.</p>"
    "<ul>{% for text in messages %}<li>{{ text }}</li>{% endfor %}</ul>"
    '<p><a href="{{ link }}">Open the conversation</a></p>'
)


def change_notification_settings(
    session: Session, member: Member, *, email: bool | None = None, after_minutes: int | None = None
) -> Workspace:
    """Switch the workspace's emails on or off, or change the waiting time; `settings.manage`.

    The values are checked by the caller (the API's SETTINGS_BODY schema); None: unchanged.
    """
    require(member, "settings.manage")
    workspace = session.get(Workspace, member.workspace_id)
    assert workspace is not None  # members are deleted with their workspace
    if email is not None:
        workspace.notify_by_email = email
    if after_minutes is not None:
        workspace.notify_after_minutes = after_minutes
    return workspace
