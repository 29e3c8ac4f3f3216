"""Small "changed" notices for the console's live pages: which conversation or contact changed.

Every session of the chat layer is watched (`watch`): after a commit, the conversations and
contacts it wrote are announced on the workspace's Redis pub/sub channel, whoever wrote them
(an API call, a console page, a worker taking a Messenger message or carrying out a bot's
reply). A notice names only a kind and an id; a page that hears one re-fetches what it shows
through the chat services, with the reader's own permissions. Notices are a hint, not a log:
one sent while Redis is away or while no page listens is gone, and the page shows the change
the next time it loads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import orjson
import redis
from redis.client import PubSub
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from chat.models import Contact, Conversation
from engine.client import CLUSTER_AWAY, Client, announce

log = logging.getLogger(__name__)
_PENDING = "parley.changes"  # Session.info key: what the transaction wrote so far


class Change(NamedTuple):
    """One notice: `kind` ("conversation" or "contact") and the id, in a workspace."""

    workspace_id: int
    kind: str
    id: int


class ChangeFeed:
    """Publishes the notices of committed sessions and lets a page listen to its workspace's."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Announce what each session of `sessions` wrote, once it has committed."""
        event.listen(sessions, "after_flush", _collect)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_rollback", _forget)

    def publish(self, changes: set[Change]) -> None:
        """Send each notice to its workspace's channel; Redis away loses them (see above)."""
        notices = [
            (channel(change.workspace_id), orjson.dumps({"kind": change.kind, "id": change.id}))
            for change in sorted(changes)
        ]
        try:
            announce(self.client, notices)
        except (redis.RedisError, *CLUSTER_AWAY) as err:
            log.warning("live notices not sent: %s", err)

    def listen(self, workspace_id: int, seconds: float) -> Iterator[dict[str, Any] | None]:
        """The workspace's notices for `seconds`; None about once a second when there is none.

        It subscribes at once, so a Redis that does not answer raises here, not later."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(channel(workspace_id))
        except redis.RedisError:
            pubsub.close()
            raise
        return _notices(pubsub, seconds)

    def _after_commit(self, session: Session) -> None:
        changes = session.info.pop(_PENDING, None)
        if changes:
            self.publish(changes)


def channel(workspace_id: int) -> str:
    """The pub/sub channel of a workspace's notices."""
    return f"parley:changes:{workspace_id}"


def _notices(pubsub: PubSub, seconds: float) -> Iterator[dict[str, Any] | None]:
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1.0)
            yield orjson.loads(message["data"]) if message else None
    except redis.RedisError as err:  # Redis went away: end the stream, the page reconnects
        log.info("a live stream ended early: %s", err)
    finally:
        pubsub.close()


def _collect(session: Session, _context: object) -> None:
    pending: set[Change] = session.info.setdefault(_PENDING, set())
    # a message always changes its conversation's figures, so conversations cover messages
    for thing in (*session.new, *session.dirty):
        if isinstance(thing, Conversation):
            pending.add(Change(thing.workspace_id, "conversation", thing.id))
        elif isinstance(thing, Contact):
            pending.add(Change(thing.workspace_id, "contact", thing.id))


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
