"""Flows: their check status, reload from disk, each flow's funnel and visitor drill-down."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, jsonify, request

from dsl.pipeline import CheckReport
from engine.store import STATUSES
from web.errors import ApiError
from web.services import services

blueprint = Blueprint("flows", __name__, url_prefix="/flows")


@blueprint.get("")
def list_flows() -> Response:
    """Every loaded flow, and the findings of files that did not load."""
    return jsonify(_report(services().last_load))


@blueprint.post("/reload")
def reload_flows() -> Response:
    """Load the flows folder again; the good flows keep running whatever the bad ones say."""
    return jsonify(_report(services().reload_flows()))


@blueprint.get("/<flow_id>/funnel")
def funnel(flow_id: str) -> Response:
    """The flow's funnel over the given days (`day`, repeatable), all versions or one."""
    _known(flow_id)
    days = request.args.getlist("day") or None
    figures = services().metrics.funnel(flow_id, days, request.args.get("version"))
    return jsonify(figures.as_json())


@blueprint.get("/<flow_id>/visitors")
def visitors(flow_id: str) -> Response:
    """The flow's visitors, newest trigger first, by cursor; filter by status and time."""
    _known(flow_id)
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid", f"status must be one of {', '.join(STATUSES)}", "status")
    rows, cursor = services().metrics.drill_down(
        flow_id,
        status=status,
        since=_number("since"),
        until=_number("until"),
        cursor=request.args.get("cursor"),
        limit=_limit(),
    )
    return jsonify({"visitors": rows, "next_cursor": cursor})


def _report(report: CheckReport) -> dict[str, Any]:
    flows = [
        {
            "id": flow.id,
            "name": flow.flow.name,
            "version": flow.version,
            "trigger": flow.flow.trigger.kind,
            "path": flow.flow.path,
        }
        for flow in report.flows
    ]
    return {"flows": flows, "findings": [d.as_json() for d in report.diagnostics]}


def _known(flow_id: str) -> None:
    if flow_id not in {flow.id for flow in services().flows.current()}:
        raise ApiError(404, "not_found", f"no flow with id {flow_id!r}", "flow_id")


def _number(name: str) -> float | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ApiError(422, "invalid", f"{name} must be a time in seconds since the epoch", name)
    return value


def _limit() -> int:
    raw = request.args.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise ApiError(422, "invalid", "limit must be a whole number from 1 to 200", "limit")
    return int(raw)
