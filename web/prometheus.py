"""HTTP request metrics through prometheus_client, summed over every worker process.

Under gunicorn each worker process counts its own requests. With `PROMETHEUS_MULTIPROC_DIR`
set, prometheus_client keeps those counts in files in that folder (one set per process) and
a scrape sums the files, whichever process answers it; unset, the counts live in memory.
prometheus_client reads the variable once, when it is first imported, so it must be in the
environment before the process starts: set after that import, the counts would stay in
memory, and `install_http_metrics` refuses to start rather than lose them silently. A
process that exits leaves its counts in the files, which is what counters want; call
`mark_process_dead` with its pid all the same (it drops the per-process state that is
only valid while the process lives).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values
from prometheus_client.metrics_core import Metric

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_EXTENSION = "parley_http_metrics"
# Methods the API answers; anything else a client sends is counted as `other`, so that a
# client cannot make up label values (the route is bounded by the rules, the status by HTTP).
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMisconfigured(RuntimeError):
    """PROMETHEUS_MULTIPROC_DIR was set too late, or names no folder."""


class HttpMetrics:
    """Requests by method, route and status, and their latency by method and route."""

    def __init__(self) -> None:
        # In no registry: a scrape reads them through its own (see `scrape_registry`), and
        # a process that builds several apps (the tests) keeps each app's counts apart.
        self.requests = Counter(
            "parley_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=None,
        )
        self.latency = Histogram(
            "parley_http_request_duration_seconds",
            "Time to produce an HTTP response, by method and route.",
            ["method", "route"],
            registry=None,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        method = method if method in _METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def collect(self) -> Iterator[Metric]:
        """The two metrics, as a prometheus_client collector."""
        yield from self.requests.collect()
        yield from self.latency.collect()


def install_http_metrics(app: Flask) -> HttpMetrics:
    """Count every request the app answers; call it before other request hooks are added."""
    _check_multiprocess()
    metrics = HttpMetrics()
    app.extensions[_EXTENSION] = metrics

    @app.before_request
    def start_clock() -> None:
        g.parley_request_started = time.perf_counter()

    @app.after_request
    def count_request(response: Response) -> Response:
        started = g.get("parley_request_started")
        if started is not None:
            # the rule, never the path: one series per route, however many ids are asked for
            route = request.url_rule.rule if request.url_rule else "unmatched"
            elapsed = time.perf_counter() - started
            metrics.observe(request.method, route, response.status_code, elapsed)
        return response

    return metrics


def scrape_registry(app: Flask) -> CollectorRegistry:
    """A fresh registry holding the app's request metrics, of every process if multiprocess."""
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder is None:
        registry.register(app.extensions[_EXTENSION])
    else:
        # ignore: prometheus_client leaves its multiprocess functions unannotated
        multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return registry


def mark_process_dead(pid: int) -> None:
    """Tell the metrics that worker process `pid` has exited (a gunicorn `child_exit` hook)."""
    folder = multiprocess_dir()
    if folder is not None:
        multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]  # as above


def multiprocess_dir() -> str | None:
    """The folder of the multiprocess metrics, or None when counts stay in this process."""
    return os.environ.get(MULTIPROC_VARIABLE) or None


def _check_multiprocess() -> None:
    folder = multiprocess_dir()
    if folder is None:
        return
    if values.ValueClass is values.MutexValue:
        raise MetricsMisconfigured(
            f"{MULTIPROC_VARIABLE} was set after prometheus_client was imported, so this "
            "process would count requests only in memory: set it in the environment the "
            "process starts with"
        )
    if not os.path.isdir(folder):
        raise MetricsMisconfigured(f"{MULTIPROC_VARIABLE}={folder} is not a folder")
