"""Under several worker processes (gunicorn), one scrape sums the requests of them all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from web.prometheus import MULTIPROC_VARIABLE, MetricsMisconfigured, install_http_metrics

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # seconds for one child process; each takes well under one
# A worker process: a small app with the request metrics, answering `sys.argv[1]` requests.
RECORD = """
import os, sys
from flask import Flask
from web.prometheus import install_http_metrics
app = Flask("worker")
install_http_metrics(app)
app.add_url_rule("/items/<int:item_id>", "item", lambda item_id: "ok")
client = app.test_client()
for number in range(int(sys.argv[1])):
    assert client.get(f"/items/{number}").status_code == 200
client.get("/nothing")
print(os.getpid())
"""
# The process that answers the scrape, after the workers have exited.
SCRAPE = """
import sys
from flask import Flask
from prometheus_client import generate_latest
from web.prometheus import install_http_metrics, mark_process_dead, scrape_registry
app = Flask("scraper")
install_http_metrics(app)
for pid in sys.argv[1:]:
    mark_process_dead(int(pid))
print(generate_latest(scrape_registry(app)).decode())
"""


def run(code: str, *args: str, folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, MULTIPROC_VARIABLE: str(folder)}  # before the child imports anything
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def output(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0
    return out


def test_one_scrape_sums_the_requests_of_two_worker_processes(tmp_path: Path) -> None:
    workers = [run(RECORD, str(count), folder=tmp_path) for count in (3, 4)]
    pids = [output(worker).strip() for worker in workers]
    assert len(set(pids)) == 2
    text = output(run(SCRAPE, *pids, folder=tmp_path))
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    item = (("method", "GET"), ("route", "/items/<int:item_id>"))
    assert samples["parley_http_requests_total", (*item, ("status", "200"))] == 7
    assert (
        samples[
            "parley_http_requests_total",
            (("method", "GET"), ("route", "unmatched"), ("status", "404")),
        ]
        == 2
    )
    assert samples["parley_http_request_duration_seconds_count", item] == 7


def test_the_variable_set_after_prometheus_client_was_imported_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # this test process imported prometheus_client without the variable
    monkeypatch.setenv(MULTIPROC_VARIABLE, str(tmp_path))
    with pytest.raises(MetricsMisconfigured, match="set it in the environment"):
        install_http_metrics(Flask("late"))
