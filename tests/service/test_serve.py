"""`parley serve` for an operator: it serves, shares its Redis, stops cleanly on SIGTERM and
recovers from a `kill -9` by itself."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import urllib.request

from tests.service.conftest import STOP_TIMEOUT, Service, alive, parley, processes_of


def test_serve_answers_health_and_readiness_without_a_token(service: Service) -> None:
    service.start()
    assert service.call("GET", "/healthz") == (200, {"status": "ok"})
    status, ready = service.call("GET", "/readyz")
    assert (status, ready["status"]) == (200, "ready")
    assert ready["checks"]["flows"] == {"ok": True, "detail": "1 loaded, 0 of 1 file(s) failed"}
    assert service.token is not None  # the first start made the owner


def test_the_readme_commands_work_beside_a_running_service(service: Service) -> None:
    service.start()
    for command in (("funnel", "echo"), ("trace", "someone"), ("metrics",)):
        result = service.run(*command)
        assert result.returncode == 0, result.stderr
    assert service.call("GET", "/healthz")[0] == 200  # and the service's Redis is still there


def test_sigterm_stops_every_process_it_started(service: Service) -> None:
    service.start()
    assert service.call("GET", "/readyz")[0] == 200
    redis_pid = service.redis_pid()
    assert processes_of(service.port)  # gunicorn's master and worker

    assert service.stop(signal.SIGTERM) == 0
    assert processes_of(service.port) == []
    assert not alive(redis_pid)
    assert not (service.data_dir / "redis.sock").exists()


def test_after_kill_9_gunicorn_stops_and_the_next_start_finds_the_data(service: Service) -> None:
    service.start()
    status, started = service.call("POST", "/widget/conversations", {"name": "Ben"})
    assert status == 201
    service.stop(signal.SIGKILL)
    gone = threading.Event()
    for _ in range(160):  # the kernel tells gunicorn its parent died; it stops gracefully
        if not processes_of(service.port):
            gone.set()
            break
        gone.wait(0.25)
    assert gone.is_set(), processes_of(service.port)

    first_token, service.token = service.token, None
    service.start()  # no stale lock, socket or pid file stands in the way
    assert first_token is not None
    assert service.token is None  # not a first start again: the owner is there
    resumed = service.call(
        "POST", "/widget/conversations", {"visitor_token": started["visitor_token"]}
    )
    assert resumed == (200, started)  # the visitor and their conversation were kept
    redis_pid = service.redis_pid()
    assert service.stop() == 0
    assert not alive(redis_pid)


def test_a_port_in_use_is_said_in_one_line(service: Service) -> None:
    with socket.create_server(("127.0.0.1", service.port)):
        result = service.run("serve", "--port", str(service.port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: port {service.port} on 127.0.0.1 is in use: stop what listens there, or "
        "choose another with --port or PARLEY_PORT"
    ]


def test_a_bad_setting_stops_the_start_naming_the_variable(service: Service) -> None:
    result = service.run("serve", "--port", str(service.port), PARLEY_LOG_LEVEL="loud")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: PARLEY_LOG_LEVEL is one of DEBUG, INFO, WARNING, ERROR, not 'loud'"
    ]


def test_metrics_add_up_the_requests_of_every_web_process(service: Service) -> None:
    service.start("--workers", "2")
    for _ in range(20):  # spread over both processes by the kernel's accept queue
        assert service.call("GET", "/healthz")[0] == 200
    request = urllib.request.Request(
        f"http://127.0.0.1:{service.port}/metrics",
        headers={"Authorization": f"Bearer {service.token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        text = answer.read().decode()
    line = 'parley_http_requests_total{method="GET",route="/healthz",status="200"} 20.0'
    assert line in text.splitlines()


def test_a_worker_stops_on_sigterm_and_leaves_no_redis_behind(service: Service) -> None:
    worker = subprocess.Popen(
        parley("worker"), cwd=service.folder, env=service.env, stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    while "Ctrl-C stops" not in (line := worker.stdout.readline()):
        assert line, "the worker exited before it was ready"
    redis_pid = service.redis_pid()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=STOP_TIMEOUT) == 0
    worker.stdout.close()
    assert not alive(redis_pid)
