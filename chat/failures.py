"""What Parley failed to send or relay and keeps a record of, counted for the metrics scrape."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.models import Message, Notification, OutboxEvent


@dataclass(frozen=True, slots=True)
class Failures:
    """Rows whose sending failed, across every workspace."""

    messenger_sends: int  # outgoing Messenger messages with delivery `failed`
    notifications: int  # notification emails `failed` after their retries
    events_set_aside: int  # outbox events the relay could not read (chat.outbox)


def count_failures(session: Session) -> Failures:
    """The counts in one query: sends and notifications from their status indexes, the
    outbox (small: what the requests left behind) read whole."""
    sends = select(func.count()).select_from(Message).where(Message.delivery == "failed")
    notifications = (
        select(func.count()).select_from(Notification).where(Notification.status == "failed")
    )
    aside = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.error.is_not(None))
    counts = (query.scalar_subquery() for query in (sends, notifications, aside))
    row = session.execute(select(*counts)).one()
    return Failures(
        messenger_sends=int(row[0]), notifications=int(row[1]), events_set_aside=int(row[2])
    )
