"""The engine's commands, carried out on the chat data once each, in order per visitor.

Chat facts become engine events in `chat.news`; the engine's commands come back on its
outbox streams and are carried out here (`CommandExecutor`, on the shards its worker
leases), each as chat/commands.py says for its kind. Carrying out a command may itself be
news for the engine (a bot message was sent, hosting was switched): that event is told in
the command's own transaction, with an id derived from the command. What leaves Parley (a
flow's email or webhook) goes to the `Deliveries` port after the commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

import logs
from chat.commands import KINDS
from chat.errors import ChatError
from chat.models import Conversation, ExecutedCommand
from chat.news import event_for, tell
from chat.outbox import EventOutbox
from chat.ports import Deliveries
from engine.client import Client
from engine.effects import MESSAGE_COMMANDS
from engine.keys import Keys
from engine.streams import ShardedQueue, ShardLeases
from engine.worker import EventStream

GROUP = "parley-chat"
log = logging.getLogger(__name__)


class CommandExecutor:
    """Consumes the engine's commands and carries each out once on the chat data."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: Client,
        keys: Keys,
        name: str,
        *,
        deliveries: Deliveries,
        now: Callable[[], datetime],
        news: EventOutbox | None = None,
        leases: ShardLeases | None = None,
    ) -> None:
        self.sessions = sessions
        self.now = now  # the service's clock: a virtual one in tests and simulations
        self.name = name
        self.deliveries = deliveries
        self.leases = leases or ShardLeases(client, keys, name, GROUP)
        # the news of carried-out commands: on the engine's streams, unless told otherwise
        self.news = news or EventOutbox(sessions, EventStream(client, keys).publish, now)
        self.queue = ShardedQueue(client, keys.commands, keys.dead_letters, GROUP)
        self.queue.ensure_group(range(keys.shards))

    def run_once(self, count: int = 100) -> int:
        """Carry out the next commands of the leased shards, in order, with those a worker
        that died left unacknowledged first."""
        entries = self.queue.take(self.name, count, self.leases.shards())
        for shard, entry_id, fields in entries:
            self._carry_out(shard, entry_id, fields)
        return len(entries)

    def _carry_out(self, shard: int, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        # A command that cannot be carried out is set aside with the reason; a database or
        # Redis failure propagates, leaving the command pending, to be taken again first.
        try:
            command = json.loads(fields[b"command"])
            with logs.visitor(command.get("visitor_id")):
                self.execute(command)
        except (ValueError, KeyError, TypeError, AttributeError, ChatError) as err:
            self.queue.set_aside(shard, fields, str(err))
        self.queue.ack([(shard, entry_id)])

    def execute(self, command: dict[str, Any]) -> None:
        """Carry out one command, once whatever the deliveries, and tell its news."""
        at = self.now()
        kind = KINDS[command["kind"]]  # an unknown kind is refused before anything is recorded
        with self.news.transaction() as session:
            conversation = session.get(Conversation, int(command["conversation_id"]))
            if conversation is None:
                log.warning("command %s for a conversation that is gone", command["key"])
                return
            if session.get(ExecutedCommand, command["key"]) is not None:
                return  # carried out before, its news told in the same transaction
            kind.carry_out(session, conversation, command, at)
            session.add(ExecutedCommand(key=command["key"]))
            if kind.news is not None:
                news_id = f"{command['key']}:news"
                tell(session, conversation, kind.news, at, news_id, **_news_fields(command))
            facts = email_facts(conversation, at)
        # after the commit: no network wait holds the database; at most once per command
        if kind.deliver is not None:
            kind.deliver(self.deliveries, command, facts)


def email_facts(conversation: Conversation, at: datetime) -> dict[str, Any]:
    """What an email template may read: the contact and the conversation, as flows do."""
    event = event_for(conversation, "message.sent", at, "email-facts")
    return {
        "contact": {**event.contact, "channel": event.channel},
        "conversation": {
            "id": event.conversation_id,
            "state": event.state,
            "status": conversation.status,
            "tags": list(event.tags),
        },
        "visitor": {"id": event.visitor_id, "is_new": event.is_new},
        "message": {"text": None},
        "vars": {},
    }


def _news_fields(command: dict[str, Any]) -> dict[str, Any]:
    if command["kind"] in MESSAGE_COMMANDS:
        text = command["args"].get("text", "")
        return {"sender": "bot", "text": text, "flow": command["flow"], "command": command["key"]}
    return {}
