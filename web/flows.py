"""Flows: their check status, reload from disk, each flow's funnel and visitor drill-down."""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from chat.models import Member
from chat.permissions import require
from engine.flows import FlowRegistry
from engine.metrics import prometheus_text
from engine.store import STATUSES
from web import responses
from web.args import VERSION_MAX, day_args, int_arg, number_arg, text_arg
from web.auth import member_request
from web.errors import ApiError
from web.responses import answer
from web.services import services

blueprint = Blueprint("flows", __name__, url_prefix="/flows")


@blueprint.get("")
@member_request
def list_flows(session: Session, member: Member) -> Response:
    """Every loaded flow, and the findings of the last reload: the set every process runs."""
    return answer(_listing(services().loaded_flows()))


@blueprint.post("/reload")
@member_request
def reload_flows(session: Session, member: Member) -> Response:
    """Load the flows folder again for every process (settings.manage): the set it makes
    replaces the loaded one; a bad file keeps its previous version running."""
    require(member, "settings.manage")
    services().reload_flows()
    return answer(_listing(services().flows))


@blueprint.get("/<flow_id>/funnel")
@member_request
def funnel(session: Session, member: Member, flow_id: str) -> Response:
    """The flow's funnel over the given days (`day`, repeatable), all versions or one."""
    _analytics(member, flow_id)
    days = day_args("day")
    figures = services().metrics.funnel(flow_id, days, text_arg("version", VERSION_MAX))
    return answer(responses.Funnel.model_validate(figures.as_json()))


@blueprint.get("/<flow_id>/visitors")
@member_request
def visitors(session: Session, member: Member, flow_id: str) -> Response:
    """The flow's visitors, newest trigger first, by cursor; filter by status and time."""
    _analytics(member, flow_id)
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid", f"status must be one of {', '.join(STATUSES)}", "status")
    rows, cursor = services().metrics.drill_down(
        flow_id,
        status=status,
        since=number_arg("since"),
        until=number_arg("until"),
        cursor=request.args.get("cursor"),
        limit=int_arg("limit", 50, 1, 200) or 50,
    )
    shown = [responses.FlowVisitor.model_validate(row) for row in rows]
    return answer(responses.FlowVisitors(visitors=shown, next_cursor=cursor))


@blueprint.get("/metrics")
@member_request
def prometheus(session: Session, member: Member) -> Response:
    """Every loaded flow's funnel in Prometheus' text format (scrape with a bearer token)."""
    require(member, "conversations.view_all")
    metrics = services().metrics
    flows = services().loaded_flows().current()
    text = prometheus_text([metrics.funnel(flow.id) for flow in flows])
    return Response(text, mimetype="text/plain; version=0.0.4")


def _listing(registry: FlowRegistry) -> responses.Flows:
    flows = [
        responses.Flow(
            id=flow.id,
            name=flow.flow.name,
            version=flow.version,
            trigger=flow.flow.trigger.kind,
            path=flow.flow.path,
        )
        for flow in registry.current()
    ]
    findings = [responses.Finding.model_validate(d.as_json()) for d in registry.loaded.findings]
    return responses.Flows(flows=flows, findings=findings)


def _analytics(member: Member, flow_id: str) -> None:
    # the funnel spans every visitor, so it is for members who may see all conversations
    require(member, "conversations.view_all")
    if flow_id not in {flow.id for flow in services().loaded_flows().current()}:
        raise ApiError(404, "not_found", f"no flow with id {flow_id!r}", "flow_id")
