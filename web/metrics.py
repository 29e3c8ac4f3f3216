"""`GET /metrics`: the service's figures in Prometheus' text format, for a scraper with a token.

HTTP requests come from every worker process (web/prometheus.py); the engine's backlog and
the failed sends are read at scrape time, from Redis and the database, by whichever process
answers; the flows' funnels follow, as `/flows/metrics` gives them.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, current_app
from prometheus_client import generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from chat.bridge import GROUP
from chat.failures import Failures, count_failures
from chat.models import Member
from chat.permissions import require
from engine.backlog import Backlog, read_backlog
from engine.metrics import prometheus_text
from web.auth import member_request
from web.prometheus import scrape_registry
from web.services import Services, services

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
@member_request
def metrics(session: Session, member: Member) -> Response:
    """Requests, backlog, failures and funnels (the same permission as `/flows/metrics`)."""
    require(member, "conversations.view_all")
    registry = scrape_registry(current_app)
    registry.register(StateCollector(services(), session))
    funnels = [services().metrics.funnel(flow.id) for flow in services().loaded_flows().current()]
    text = generate_latest(registry).decode() + prometheus_text(funnels)
    return Response(text, mimetype="text/plain; version=0.0.4")


class StateCollector:
    """Gauges read when scraped: the engine's backlog in Redis, failed sends in the database."""

    def __init__(self, services: Services, session: Session) -> None:
        self.services = services
        self.session = session

    def collect(self) -> Iterator[Metric]:
        """Read Redis (two round trips) and the database (one query), then yield the gauges."""
        engine = self.services.engine
        backlog = read_backlog(engine.store.redis, engine.store.keys, engine.clock.now(), GROUP)
        yield from _backlog_gauges(backlog)
        yield from _failure_gauges(count_failures(self.session))


def _backlog_gauges(backlog: Backlog) -> Iterator[Metric]:
    lag = GaugeMetricFamily(
        "parley_event_stream_lag",
        "Events in the shard's stream not yet given to a worker.",
        labels=["shard"],
    )
    held = GaugeMetricFamily(
        "parley_event_stream_pending",
        "Events given to a worker and not yet acknowledged, by shard.",
        labels=["shard"],
    )
    for shard, stream in enumerate(backlog.events):
        lag.add_metric([str(shard)], stream.waiting)
        held.add_metric([str(shard)], stream.pending)
    yield lag
    yield held
    yield _gauge(
        "parley_commands_outstanding",
        "Engine commands not yet carried out on the chat data (waiting or unacknowledged).",
        sum(stream.outstanding for stream in backlog.commands),
    )
    yield _gauge("parley_timers_pending", "Timers in the schedule.", backlog.timers_pending)
    yield _gauge(
        "parley_timers_due", "Timers due by the service's clock, not fired yet.", backlog.timers_due
    )


def _failure_gauges(failures: Failures) -> Iterator[Metric]:
    yield _gauge(
        "parley_messenger_sends_failed",
        "Outgoing Messenger messages whose delivery failed.",
        failures.messenger_sends,
    )
    yield _gauge(
        "parley_notifications_failed",
        "Notification emails that failed after their retries.",
        failures.notifications,
    )
    yield _gauge(
        "parley_outbox_events_set_aside",
        "Outbox events the relay could not read as events, kept with the reason.",
        failures.events_set_aside,
    )


def _gauge(name: str, help_text: str, value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)
