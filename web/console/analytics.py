"""Flow analytics: every flow's figures, one flow's funnel, days and versions, its visitors.

The figures span every visitor, so the pages need "View all data"
(`conversations.view_all`), as the JSON API's funnel and drill-down do; anyone else gets a
403 page saying so in their language. The engine's figures come from `services().metrics`.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chat.flow_visitors import conversation_names
from chat.models import Member
from chat.permissions import VIEW_ALL
from dsl.compiler import CompiledFlow
from dsl.errors import Diagnostic
from engine.errors import InvalidInput
from engine.flow_set import FlowRef, LoadedSet
from engine.metrics import Funnel
from engine.store import STATUSES
from web.console.base import blueprint, console_page, conversation_url, in_navigation, page
from web.console.errors import error_page
from web.services import services

PAGE_SIZE = 25  # drill-down rows per page
CSV_BATCH = 200  # rows read from Redis at a time while the CSV streams
DAYS_SHOWN = 30  # the most recent days with figures on a flow's page

in_navigation("console.analytics", _l("Analytics"), place=60, permission="conversations.view_all")

STATUS_LABELS = {
    "completed": _l("Completed"),
    "engaged": _l("Engaged"),
    "not_engaged": _l("Not engaged"),
}
CHANNEL_LABELS = {"widget": _l("Website widget"), "messenger": _l("Messenger")}
# (Funnel attribute, label, definition): the definitions are engine.md's, "The funnel"
FIGURES = (
    (
        "triggers",
        _l("Trigger count"),
        _l("Times the trigger started a run, counted on the day it happened."),
    ),
    ("triggered", _l("Triggered visitors"), _l("Unique visitors the flow started for.")),
    (
        "engagement_rate",
        _l("Engagement"),
        _l(
            "Engaged visitors out of triggered visitors. A visitor engages by clicking a "
            "button, answering a question or filling a promo card."
        ),
    ),
    (
        "completion_rate",
        _l("Completion"),
        _l(
            "Completed visitors out of triggered visitors. A visitor completes by reaching "
            "any end step of the flow."
        ),
    ),
)


def analytics_page(
    handler: Callable[[Session, Member, CompiledFlow], ResponseReturnValue],
) -> Callable[[Session, Member, str], ResponseReturnValue]:
    """Give `handler` the flow of the URL; 403 without View all data, 404 for no such flow."""

    @functools.wraps(handler)
    def wrapper(session: Session, member: Member, flow_id: str) -> ResponseReturnValue:
        if not member.can(VIEW_ALL):
            return forbidden()
        flows = services().loaded_flows().current()
        flow = next((f for f in flows if f.id == flow_id), None)
        if flow is None:
            return error_page(404, _("No flow with the id %(id)s is loaded.", id=flow_id))
        return handler(session, member, flow)

    return wrapper


def forbidden() -> Response:
    """The page a member without View all data gets."""
    return error_page(
        403,
        _(
            "Flow analytics covers every visitor, so it needs the View all data permission. "
            "The workspace owner or an admin can grant it."
        ),
    )


@blueprint.get("/analytics")
@console_page
def analytics(session: Session, member: Member) -> ResponseReturnValue:
    """Every loaded flow with its figures, and what the last reload found in the files."""
    if not member.can(VIEW_ALL):
        return forbidden()
    metrics = services().metrics
    registry = services().loaded_flows()
    flows = [(flow, metrics.funnel(flow.id)) for flow in registry.current()]
    return page(
        "console/analytics.html",
        flows=flows,
        figures=FIGURES,
        problems=file_problems(registry.loaded),
    )


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A flow file in which the last reload found something, and what runs of it."""

    path: str
    failed: bool  # it has errors: its flow did not load
    kept: FlowRef | None  # then the version loaded before it, which keeps running
    findings: tuple[Diagnostic, ...]


def file_problems(loaded: LoadedSet) -> list[FileProblem]:
    """The findings of the loaded set's reload, file by file, in the order they were found."""
    paths = dict.fromkeys(finding.location.path for finding in loaded.findings)
    return [
        FileProblem(
            path,
            failed=path in loaded.failed,
            kept=loaded.kept(path) if path in loaded.failed else None,
            findings=tuple(f for f in loaded.findings if f.location.path == path),
        )
        for path in paths
    ]


@blueprint.get("/analytics/<flow_id>")
@console_page
@analytics_page
def flow_analytics(session: Session, member: Member, flow: CompiledFlow) -> ResponseReturnValue:
    """One flow: its figures, funnel per step, per day and per version, and its visitors."""
    version = request.args.get("version") or None
    status = _status()
    metrics = services().metrics
    funnel = metrics.funnel(flow.id, version=version)
    daily = list(metrics.daily(flow.id, version=version).items())[-DAYS_SHOWN:]
    try:
        rows, cursor = metrics.drill_down(
            flow.id, status=status, cursor=request.args.get("cursor") or None, limit=PAGE_SIZE
        )
    except InvalidInput:  # a cursor this page did not give out
        return error_page(422, _("This page of visitors is out of date: start from the first."))
    return page(
        "console/analytics_flow.html",
        flow=flow,
        version=version,
        funnel=funnel,
        steps=funnel_steps(flow, funnel),
        daily=daily[::-1],
        versions=metrics.by_version(flow.id),
        filter_status=status,
        visitors=visitor_rows(session, member, rows),
        next_cursor=cursor,
        first_page=not request.args.get("cursor"),
        days_shown=DAYS_SHOWN,
        figures=FIGURES,
        status_labels=STATUS_LABELS,
        channel_labels=CHANNEL_LABELS,
    )


@blueprint.get("/analytics/<flow_id>/visitors.csv")
@console_page
@analytics_page
def visitors_csv(session: Session, member: Member, flow: CompiledFlow) -> ResponseReturnValue:
    """The flow's visitors (the page's status filter) as CSV, streamed a batch at a time."""
    status = _status()
    body = stream_with_context(_csv_lines(flow.id, status, member.id))
    filename = f"{flow.id}-visitors{'-' + status if status else ''}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


CSV_HEADER = (
    "visitor_id",
    "name",
    "status",
    "triggers",
    "channel",
    "first_trigger",
    "last_trigger",
    "conversation_id",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a cell a formula in a spreadsheet


def _csv_lines(flow_id: str, status: str | None, member_id: int) -> Iterator[str]:
    yield _csv_line(CSV_HEADER)
    cursor: str | None = None
    while True:
        rows, cursor = services().metrics.drill_down(
            flow_id, status=status, cursor=cursor, limit=CSV_BATCH
        )
        known = _names(member_id, [row["conversation_id"] for row in rows])
        for row in rows:
            yield _csv_line(
                (
                    row["visitor_id"],
                    known.get(row["conversation_id"], ""),
                    row["status"],
                    row["triggers"],
                    row["channel"],
                    _moment(row["first_trigger"]).isoformat(),
                    _moment(row["last_trigger"]).isoformat(),
                    row["conversation_id"],
                )
            )
        if cursor is None:
            return


def _names(member_id: int, conversation_ids: list[str]) -> dict[str, str]:
    # the body streams after the request's transaction has ended: each batch reads the
    # names in a short transaction of its own
    with services().sessions.begin() as session:
        member = session.get(Member, member_id)
        return conversation_names(session, member, conversation_ids) if member else {}


def _csv_line(values: tuple[object, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_inert(value) for value in values])
    return buffer.getvalue()


def _inert(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, quoted as text (visitors choose
    their names: "=HYPERLINK(...)" must stay words)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True, slots=True)
class StepBar:
    """One step of the funnel: visitors who entered it, their share, the rest dropped off."""

    name: str
    visitors: int
    share: float  # percent of the triggered visitors
    drop_off: float  # percent of the triggered visitors who never entered the step


def funnel_steps(flow: CompiledFlow, funnel: Funnel) -> list[StepBar]:
    """The flow's steps in the order its file lists them, with their figures."""
    bars = []
    for name in flow.flow.steps:
        visitors = funnel.steps.get(name, 0)
        share = round(100.0 * visitors / funnel.triggered, 1) if funnel.triggered else 0.0
        bars.append(StepBar(name, visitors, share, round(100.0 - share, 1)))
    return bars


@dataclass(frozen=True, slots=True)
class VisitorRow:
    """One drill-down row as the page shows it."""

    visitor_id: str
    name: str | None  # None: not a conversation this member may see
    status: str
    triggers: int
    channel: str
    first_trigger: datetime
    last_trigger: datetime
    conversation_id: str

    @property
    def initials(self) -> str:
        """The avatar's letters: the first of up to two words ("Carla Díaz" -> "CD")."""
        words = (self.name or "").split()
        return "".join(word[0] for word in words[:2]).upper() or "?"

    @property
    def chat_url(self) -> str:
        """The conversation page of the visitor's last trigger."""
        return conversation_url(self.conversation_id)


def visitor_rows(session: Session, member: Member, rows: list[dict[str, Any]]) -> list[VisitorRow]:
    """The engine's drill-down rows with the names this member may see."""
    names = conversation_names(session, member, [row["conversation_id"] for row in rows])
    return [
        VisitorRow(
            visitor_id=row["visitor_id"],
            name=names.get(row["conversation_id"]),
            status=row["status"],
            triggers=row["triggers"],
            channel=row["channel"],
            first_trigger=_moment(row["first_trigger"]),
            last_trigger=_moment(row["last_trigger"]),
            conversation_id=row["conversation_id"],
        )
        for row in rows
    ]


def _status() -> str | None:
    status = request.args.get("status")
    return status if status in STATUSES else None


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
