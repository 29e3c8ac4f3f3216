"""The adapters the API works with, built once by `server.create_app` and shared."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from flask import current_app
from sqlalchemy import Engine as Database
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from channels.email import Mailer
from channels.flow_deliveries import FlowDeliveries
from channels.messenger.graph import GraphClient
from channels.messenger.inbound import GROUP as INBOUND_GROUP
from channels.messenger.inbound import MessengerInbox
from channels.messenger.outbound import MessengerSender
from channels.messenger.sync import PageSync
from chat.bridge import CommandExecutor
from chat.changes import ChangeFeed
from chat.notifications import NotificationSender
from chat.outbox import EventOutbox
from dsl.pipeline import CheckReport
from engine.client import REDIS_AWAY, Client
from engine.core import Engine
from engine.flows import FlowRegistry
from engine.metrics import Metrics
from engine.redis_server import EmbeddedRedis
from engine.streams import ShardLeases
from engine.worker import EventStream, Worker
from settings import Settings
from web.rate_limits import Limiter

FAILURE_WAIT = 2.0  # seconds a worker waits after Redis or the database failed it
log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a request may need, wired together once per app."""

    settings: Settings
    redis: Client
    embedded_redis: EmbeddedRedis | None
    flows: FlowRegistry
    engine: Engine
    metrics: Metrics
    events: EventStream
    sessions: sessionmaker[Session]
    changes: ChangeFeed

    def reload_flows(self) -> CheckReport:
        """Load the flows folder again, for every process: the set it makes replaces the
        loaded one, and a bad file keeps its previous version running. The files' report."""
        return self.flows.load([self.settings.flows_dir])

    def loaded_flows(self) -> FlowRegistry:
        """The flows, caught up with the set every process runs; while Redis does not
        answer, the set this process last had."""
        try:
            self.flows.refresh(force=True)
        except REDIS_AWAY as err:
            log.warning("flows as this process last had them; Redis does not answer: %s", err)
        return self.flows

    def work(
        self,
        name: str,
        stop: threading.Event,
        idle_wait: float = 0.1,
        rounds: Rounds | None = None,
    ) -> None:
        """Do `rounds` (by default the engine's and the channels', on the shards this worker
        leases) until `stop` is set; then give the leases back."""
        made = rounds
        try:
            while not stop.is_set():
                try:
                    made = made or self.rounds(name)  # needs Redis: retried like a round
                    busy = made.run_once()
                except (*REDIS_AWAY, OperationalError) as err:
                    log.warning("worker %s: %s; retrying in %g s", name, err, FAILURE_WAIT)
                    stop.wait(FAILURE_WAIT)
                    continue
                except Exception:
                    # a bug met on some record: a worker thread that died would stop all of
                    # its kind of work silently, so it logs, waits, goes on
                    log.exception("worker %s: a round failed; retrying shortly", name)
                    stop.wait(FAILURE_WAIT)
                    continue
                if not busy:
                    stop.wait(idle_wait)  # bounds how late a timer or a reply can be
        finally:
            if made is not None:
                made.release()

    def settle(self, name: str = "settle") -> None:
        """Work until nothing is left to do now (tests, tools)."""
        rounds = self.rounds(name)
        rounds.steps += self.mail_rounds().steps
        try:
            while rounds.run_once():
                pass
        finally:
            rounds.release()

    def rounds(self, name: str) -> Rounds:
        """One worker's rounds, each doing what is due and saying how much it did."""
        worker = Worker(self.engine, name)
        executor = self.executor(name)
        inbox = self.messenger_inbox
        inbox_leases = ShardLeases(self.redis, self.engine.store.keys, name, INBOUND_GROUP)
        steps = [
            self.outbox.run_once,
            worker.poll,
            executor.run_once,
            lambda: inbox.run_once(name, inbox_leases.shards()),
            MessengerSender(self.sessions, self.graph(), self.now).run_once,
            PageSync(self.sessions, self.graph(), self.now).run_once,
        ]
        return Rounds(steps, [worker.leases, executor.leases, inbox_leases])

    def start_mail(self, name: str, stop: threading.Event) -> threading.Thread:
        """Send notification emails on a thread of its own until `stop` is set."""
        thread = threading.Thread(
            target=self.work, args=(f"{name}-mail", stop), kwargs={"rounds": self.mail_rounds()}
        )
        thread.daemon = True
        thread.start()
        return thread

    def mail_rounds(self) -> Rounds:
        """The notification emails' round, run by a thread of its own so that a slow or
        failing SMTP server never holds up events, commands or Messenger traffic."""
        smtp = self.settings.smtp
        mailer = Mailer(smtp) if smtp else None
        sender = NotificationSender(self.sessions, mailer, self.settings.public_url, self.now)
        return Rounds([sender.run_once])

    def graph(self) -> GraphClient:
        """A Graph API client for the configured Graph API (Meta's, or a test's fake)."""
        messenger = self.settings.messenger
        return GraphClient(messenger.graph_api_url, timeout=messenger.graph_timeout)

    @functools.cached_property
    def limiter(self) -> Limiter:
        """The deployment's rate limits, counted in Redis."""
        keys = self.engine.store.keys
        return Limiter(self.redis, keys.prefix, self.settings.rate_rules, self.settings.redis_url)

    @functools.cached_property
    def outbox(self) -> EventOutbox:
        """Where requests stage the engine events of what they store."""
        return EventOutbox(self.sessions, self.events.publish, self.now)

    @functools.cached_property
    def messenger_inbox(self) -> MessengerInbox:
        """Where Messenger webhook items are queued and applied."""
        return MessengerInbox(
            self.sessions,
            self.redis,
            self.engine.store.keys,
            app_id=self.settings.messenger.app_id,
            profile=self.graph().profile,
            news=self.outbox,
            replicas=self.settings.redis_wait_replicas,
        )

    def now(self) -> datetime:
        """The time by the service's clock (a virtual one in tests and simulations)."""
        return datetime.fromtimestamp(self.engine.clock.now(), UTC)

    def executor(self, name: str) -> CommandExecutor:
        """A command executor with this service's database, Redis and mailer."""
        smtp = self.settings.smtp
        mailer = Mailer(smtp) if smtp else None
        return CommandExecutor(
            self.sessions,
            self.redis,
            self.engine.store.keys,
            name,
            deliveries=FlowDeliveries(mailer, self.settings.email_templates, self.now),
            now=self.now,
            news=self.outbox,
        )

    def close(self) -> None:
        """Close the database pool and stop what the services started (the embedded Redis)."""
        bind = self.sessions.kw.get("bind")
        if isinstance(bind, Database):
            bind.dispose()
        if self.embedded_redis is not None:
            self.embedded_redis.stop()


@dataclass
class Rounds:
    """What one worker does in a round, and the shard leases it does it on."""

    steps: list[Callable[[], int]]
    leases: list[ShardLeases] = field(default_factory=list)

    def run_once(self) -> int:
        """Do every step once; how much they did."""
        return sum(step() for step in self.steps)

    def release(self) -> None:
        """Give back the leases of a stopping worker; with Redis away they lapse by
        themselves."""
        for leases in self.leases:
            try:
                leases.release()
            except redis.RedisError as err:
                log.warning("leases of worker %s left to lapse: %s", leases.name, err)


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = current_app.extensions["parley"]
    return found
