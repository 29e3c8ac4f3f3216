"""Emails to members when a visitor's message waits too long for an agent's reply.

The engine keeps the waiting timer, one per waiting streak (see docs/notifications.md).
When it fires, the engine's `notify` command reaches `queue_notifications`, which writes one
pending `Notification` per recipient: the assigned agent, or every member when nobody is
assigned. `NotificationSender`, a worker round of its own, sends them over SMTP; a send that
fails is tried again after a growing wait and, after the last try, marked failed with the
reason, which the API shows. Nothing here runs while an event is being handled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.email import EmailFailed, Mailer, render_html
from chat.models import (
    Conversation,
    Member,
    Message,
    Notification,
    NotificationStatus,
    Workspace,
)
from chat.permissions import require

RETRY_WAITS = (60, 300, 900, 3600)  # seconds before the 2nd to 5th attempt; then it failed
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
    notification_id: int
    attempt: int
    to: str
    subject: str
    text: str
    html: str


@dataclass
class NotificationSender:
    """Sends due notification emails; failures wait and try again, never holding up others."""

    sessions: sessionmaker[Session]
    mailer: Mailer | None
    public_url: str
    now: Callable[[], datetime]

    def run_once(self, limit: int = 10) -> int:
        """Send what is due now; how many notifications were taken."""
        emails, settled = self._claim(limit)
        for email in emails:
            self._send(email)
        return len(emails) + settled

    def _claim(self, limit: int) -> tuple[list[_Email], int]:
        now = self.now()
        due = (
            select(Notification)
            .where(Notification.status.in_(("pending", "sending")), Notification.send_after <= now)
            .order_by(Notification.send_after, Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        emails, settled = [], 0
        with self.sessions.begin() as session:
            for notification in session.scalars(due).all():
                conversation = session.get(Conversation, notification.conversation_id)
                stop = _why_not(conversation, self.mailer)
                if conversation is None or stop is not None:
                    notification.status, notification.error = stop or ("cancelled", None)
                    settled += 1
                    continue
                notification.status, notification.send_after = "sending", now + SENDING_LEASE
                notification.attempts += 1
                emails.append(self._email(session, notification, conversation, now))
        return emails, settled

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
        return _Email(
            notification.id, notification.attempts, notification.email, subject, text, body
        )

    def _send(self, email: _Email) -> None:
        assert self.mailer is not None  # _why_not settles every notification when it is None
        try:
            self.mailer.send(email.to, email.subject, email.text, email.html)
        except EmailFailed as err:
            self._failed(email, str(err))
            return
        with self.sessions.begin() as session:
            notification = session.get(Notification, email.notification_id)
            if notification is not None:
                notification.status, notification.sent_at = "sent", self.now()

    def _failed(self, email: _Email, error: str) -> None:
        with self.sessions.begin() as session:
            notification = session.get(Notification, email.notification_id)
            if notification is None:
                return
            notification.error = error[:500]
            if email.attempt > len(RETRY_WAITS):
                notification.status = "failed"
                log.warning("notification %s failed for good: %s", notification.id, error)
                return
            wait = RETRY_WAITS[email.attempt - 1]
            notification.status = "pending"
            notification.send_after = self.now() + timedelta(seconds=wait)


def _why_not(
    conversation: Conversation | None, mailer: Mailer | None
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
