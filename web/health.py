"""Health for operators and orchestrators: `/healthz` (the process answers) and `/readyz`
(the database and Redis answer, the schema is the newest migration's, the flows are loaded).
Neither needs a token; neither says more than ok or not and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import redis
from flask import Blueprint, Response
from sqlalchemy.exc import SQLAlchemyError

from chat.db import migrations_current
from engine.client import CLUSTER_AWAY
from web import responses
from web.errors import RETRY_AFTER
from web.openapi_parts import json_response
from web.responses import answer
from web.services import Services, services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving."""
    return answer(responses.Alive(status="ok"))


@blueprint.get("/readyz")
def readyz() -> Response:
    """Ready to serve: every check ok, else 503 with Retry-After and what is wrong."""
    found = services()
    checks = {name: _run(check, found) for name, check in _CHECKS.items()}
    ready = all(check.ok for check in checks.values())
    status: Literal["ready", "unavailable"] = "ready" if ready else "unavailable"
    response = answer(responses.Readiness(status=status, checks=checks), 200 if ready else 503)
    if not ready:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


Check = tuple[bool, str]


def _run(check: Callable[[Services], Check], found: Services) -> responses.CheckResult:
    try:
        ok, detail = check(found)
    except (SQLAlchemyError, redis.RedisError, *CLUSTER_AWAY) as err:
        ok, detail = False, f"does not answer ({type(err).__name__})"
    return responses.CheckResult(ok=ok, detail=detail)


def _database(found: Services) -> Check:
    with found.sessions() as session:
        if not migrations_current(session.connection()):
            return False, "the schema is older than the newest migration: restart to migrate"
    return True, "answers; schema current"


def _redis(found: Services) -> Check:
    found.redis.ping()
    return True, "answers"


def _flows(found: Services) -> Check:
    registry = found.loaded_flows()
    loaded, files = len(registry.current()), registry.loaded.files
    failed = len(registry.loaded.failed)
    return loaded > 0 or files == 0, f"{loaded} loaded, {failed} of {files} file(s) failed"


_CHECKS: dict[str, Callable[[Services], Check]] = {
    "database": _database,
    "redis": _redis,
    "flows": _flows,
}


def document() -> dict[str, Any]:
    """The OpenAPI paths of the health checks."""
    ready = json_response(responses.ref(responses.Readiness), "ready")
    return {
        "/healthz": {
            "get": {
                "summary": "The process is alive",
                "responses": {"200": json_response(responses.ref(responses.Alive), "alive")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Ready to serve: database, Redis, migrations and flows",
                "responses": {"200": ready, "503": {**ready, "description": "not ready, and why"}},
            }
        },
    }
