"""The event outbox: what the chat layer tells the engine, kept in SQL until it is published.

A fact and the events that tell it are written in one transaction (`stage`, called by the
chat layer's actions through `chat.news.tell`), so a fact the database keeps always reaches
the engine: `EventOutbox.transaction` publishes the events right after the commit; what that
did not publish (Redis away, the process died in between) the workers publish later
(`run_once`). An event published twice carries the same id, which
the engine recognises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from chat.db import setup_lock
from chat.models import OutboxEvent
from engine.client import CLUSTER_AWAY
from engine.errors import InvalidInput
from engine.events import Event, parse_event

# A request gets this long to publish its own events before the workers take them over.
RELAY_AFTER = timedelta(seconds=5)
log = logging.getLogger(__name__)

Staged = list[tuple[int, Event]]
_STAGED = "parley.staged"  # Session.info key: the events staged in the session's transaction


def stage(session: Session, event: Event) -> None:
    """Store `event` in `session`'s transaction, to be published once it has committed."""
    row = OutboxEvent(
        event=event.to_json().decode(), created_at=datetime.fromtimestamp(event.at, UTC)
    )
    session.add(row)
    session.info.setdefault(_STAGED, []).append((row, event))


class EventOutbox:
    """Stages events in the caller's transaction and publishes them on the engine's streams."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish: Callable[[Event], None],
        now: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.publish = publish
        self.now = now

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A database transaction whose staged events are published once it has committed."""
        with self.sessions.begin() as session:
            yield session
            session.flush()
            staged = [(row.id, event) for row, event in session.info.pop(_STAGED, [])]
        self.deliver(staged)

    def deliver(self, staged: Staged) -> None:
        """Publish committed events now, in order; what Redis refuses the workers send later."""
        published = []
        try:
            for row_id, event in staged:
                self.publish(event)
                published.append(row_id)
        except (redis.RedisError, *CLUSTER_AWAY) as err:
            log.warning("events left in the outbox for the workers: %s", err)
        finally:
            if published:
                self._forget(published)

    def _forget(self, published: list[int]) -> None:
        """Take published events off the outbox. The request's work is committed by now:
        a database gone away meanwhile must not answer it as failed (the client would send
        it again, and it would be stored twice); the relay publishes those events once more
        later, and the engine knows them by id."""
        try:
            with self.sessions.begin() as session:
                session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(published)))
        except OperationalError as err:
            log.warning("published events left in the outbox, to be relayed again: %s", err)

    def run_once(self, limit: int = 500) -> int:
        """Publish events that their request left behind; how many rows were settled. A row
        that no longer reads as an event (written by another version, say) is set aside with
        the reason, so that it never holds up the ones after it."""
        with self.sessions.begin() as session:
            if not setup_lock(session, "event-outbox", wait=False):
                return 0  # another worker relays: one at a time keeps each visitor's order
            rows = session.scalars(
                select(OutboxEvent)
                .where(
                    OutboxEvent.created_at <= self.now() - RELAY_AFTER,
                    OutboxEvent.error.is_(None),
                )
                .order_by(OutboxEvent.id)
                .limit(limit)
            ).all()
            for row in rows:
                try:
                    event = parse_event(row.event)
                except InvalidInput as err:
                    log.error("outbox event %d set aside: %s", row.id, err)
                    row.error = str(err)
                    continue
                self.publish(event)
                session.delete(row)
        return len(rows)


def set_aside(session: Session) -> list[OutboxEvent]:
    """The events the relay set aside because they did not read as events, oldest first."""
    query = select(OutboxEvent).where(OutboxEvent.error.is_not(None)).order_by(OutboxEvent.id)
    return list(session.scalars(query))


def retry(session: Session, ids: Collection[int]) -> list[int]:
    """Put set-aside events back in line for the relay (once a fix reads them); returns the
    ids that were set aside. One that still does not read is set aside again."""
    rows = session.scalars(
        select(OutboxEvent).where(OutboxEvent.id.in_(ids), OutboxEvent.error.is_not(None))
    ).all()
    for row in rows:
        row.error = None
    return sorted(row.id for row in rows)
