"""What Parley failed to send and keeps a record of, counted for the metrics scrape."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.models import Message, Notification


@dataclass(frozen=True, slots=True)
class Failures:
    """Rows whose sending failed, across every workspace."""

    messenger_sends: int  # outgoing Messenger messages with delivery `failed`
    notifications: int  # notification emails `failed` after their retries


def count_failures(session: Session) -> Failures:
    """Both counts in one query, each read from its status index."""
    sends = select(func.count()).select_from(Message).where(Message.delivery == "failed")
    notifications = (
        select(func.count()).select_from(Notification).where(Notification.status == "failed")
    )
    row = session.execute(select(sends.scalar_subquery(), notifications.scalar_subquery())).one()
    return Failures(messenger_sends=int(row[0]), notifications=int(row[1]))
