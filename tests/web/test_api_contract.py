"""The API keeps the promises of its OpenAPI document, as schemathesis judges them with every
check it has (`--checks all`) in every phase (examples, coverage, fuzzing, and stateful runs
that follow the document's links): no server errors, only documented statuses, headers and
content types, answers valid against their schemas, schema-valid requests accepted and
schema-violating ones refused, deleted things gone, wrong tokens refused.

The run is schemathesis' own command line against the service on a loopback port, with the
settings in tests/web/schemathesis.toml (a fixed seed: the same cases every run). It runs
once, on SQLite: the document is the same on both databases, the handlers' database work is
tested on PostgreSQL by the rest of tests/web, and a run takes half a minute.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from chat.members import create_workspace
from server import create_app
from settings import RateRules, Settings

HERE = Path(__file__).resolve().parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
UNLIMITED = RateRules(widget_start=None, widget_act=None, auth_failures=None, webhook=None)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite file, whatever TEST_DATABASE_URL says (see the module's docstring)."""
    return f"sqlite:///{tmp_path / 'contract.db'}"


@pytest.fixture
def unlimited_app(service_settings: Settings) -> Iterator[Flask]:
    """The service without rate limits: schemathesis sends thousands of requests from one
    address, wrong tokens among them, and a 429 would only hide what an answer says."""
    app = create_app(dataclasses.replace(service_settings, rate_rules=UNLIMITED))
    yield app
    app.extensions["parley"].close()


@pytest.fixture
def base_url(unlimited_app: Flask) -> Iterator[str]:
    """The service over HTTP on a loopback port."""
    server = make_server("127.0.0.1", 0, unlimited_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-contract", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def test_the_api_keeps_every_promise_of_its_document(unlimited_app: Flask, base_url: str) -> None:
    with unlimited_app.extensions["parley"].sessions.begin() as session:
        _, _, token = create_workspace(session, "Acme", "owner@example.com", "Olga Owner")
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{base_url}/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {token}",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "44/44" in run.stdout  # every operation of the document was tested
