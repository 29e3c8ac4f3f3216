"""Health for operators and orchestrators: `/healthz` (the process answers) and `/readyz`
(the database and Redis answer, the schema is the newest migration's, the flows are loaded).
Neither needs a token; neither says more than ok or not and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from chat.db import migrations_current
from web.errors import RETRY_AFTER
from web.openapi_parts import json_response
from web.services import Services, services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving."""
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to serve: every check ok, else 503 with Retry-After and what is wrong."""
    found = services()
    checks = {name: _run(check, found) for name, check in _CHECKS.items()}
    ready = all(check["ok"] for check in checks.values())
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    if not ready:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response, 200 if ready else 503


Check = tuple[bool, str]


def _run(check: Callable[[Services], Check], found: Services) -> dict[str, Any]:
    try:
        ok, detail = check(found)
    except (SQLAlchemyError, redis.RedisError) as err:
        ok, detail = False, f"does not answer ({type(err).__name__})"
    return {"ok": ok, "detail": detail}


def _database(found: Services) -> Check:
    with found.sessions() as session:
        if not migrations_current(session.connection()):
            return False, "the schema is older than the newest migration: restart to migrate"
    return True, "answers; schema current"


def _redis(found: Services) -> Check:
    found.redis.ping()
    return True, "answers"


def _flows(found: Services) -> Check:
    report = found.last_load
    loaded, files = len(found.flows.current()), len(report.files)
    failed = sum(result.flow is None for result in report.files)
    return loaded > 0 or files == 0, f"{loaded} loaded, {failed} of {files} file(s) failed"


_CHECKS: dict[str, Callable[[Services], Check]] = {
    "database": _database,
    "redis": _redis,
    "flows": _flows,
}


_CHECK = {
    "type": "object",
    "required": ["ok", "detail"],
    "properties": {"ok": {"type": "boolean"}, "detail": {"type": "string"}},
}


def document() -> dict[str, Any]:
    """The OpenAPI paths of the health checks."""
    status = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}},
    }
    ready = {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"enum": ["ready", "unavailable"]},
            "checks": {
                "type": "object",
                "required": list(_CHECKS),
                "properties": dict.fromkeys(_CHECKS, _CHECK),
            },
        },
    }
    return {
        "/healthz": {
            "get": {
                "summary": "The process is alive",
                "responses": {
                    "200": {
                        "description": "alive",
                        "content": {"application/json": {"schema": status}},
                    }
                },
            }
        },
        "/readyz": {
            "get": {
                "summary": "Ready to serve: database, Redis, migrations and flows",
                "responses": {
                    "200": json_response(ready, "ready"),
                    "503": json_response(ready, "not ready, and why"),
                },
            }
        },
    }
