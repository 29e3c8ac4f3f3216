"""`parley serve`: gunicorn serves the API and the engine's workers run beside it.

The serve process binds the port (so "in use" is said at once, in one line), joins the data
folder's Redis, migrates, does the first start, then runs gunicorn's master as a child
process: gthread workers (a thread per request, so a long-lived stream holds a thread, not a
process), each building its own app with `server.create_app()` after the fork. The engine's
workers are threads of the serve process. SIGTERM or Ctrl-C stops gunicorn gracefully
(requests in flight finish), then the engine threads (the round in hand finishes; what was
not acknowledged is delivered again), then leaves Redis, which the last user shuts down.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from redis.exceptions import RedisClusterUnreachableError

import logs
from engine.ports import SystemClock
from engine.worker import collect_less_often
from server import build_services, create_app, first_start
from settings import Settings
from web.prometheus import MULTIPROC_VARIABLE, mark_process_dead
from web.services import Services

GRACEFUL_TIMEOUT = 20  # seconds gunicorn gives requests in flight when told to stop
log = logging.getLogger(__name__)


class ServeError(Exception):
    """The service cannot start; the message is one line for the operator."""


@dataclass(frozen=True)
class ServeOptions:
    """How `parley serve` runs: where it listens, how many web processes and threads, and how
    many engine workers beside them."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 8
    engine_workers: int = 1


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, which gunicorn's processes inherit."""
    try:
        listener = socket.create_server((host, port), backlog=2048)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is in use: stop what listens there, or "
                "choose another with --port or PARLEY_PORT"
            ) from err
        raise ServeError(f"cannot listen on {host}:{port}: {err.strerror}") from err
    listener.set_inheritable(True)
    return listener


def serve(settings: Settings, options: ServeOptions, say: Callable[[str], None]) -> int:
    """Run the service until SIGTERM or Ctrl-C; the exit status (1 if gunicorn failed)."""
    listener = listen(options.host, options.port)
    try:
        services = build_services(settings, SystemClock())
    except RedisClusterUnreachableError as err:
        # one Redis may be away at start (requests answer 503 until it is back); a Cluster
        # client must learn the cluster's layout from one of its nodes first
        raise ServeError(f"no node of the Redis Cluster answers: {err}") from err
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    threads: list[threading.Thread] = []
    try:
        for line in _first_start_lines(services):
            say(line)
        web = _start_gunicorn(settings, options, listener.fileno())
        threads = _start_engine(services, options.engine_workers, stop)
        say(
            f"Parley serves http://{options.host}:{options.port}/ "
            f"({options.workers} web process(es) x {options.threads} threads, "
            f"{options.engine_workers} engine worker(s)); Ctrl-C stops it"
        )
        while not stop.wait(0.5):
            if web.poll() is not None:
                log.error("the web server exited with status %s; stopping", web.returncode)
                break
        failed = _stop_gunicorn(web)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=GRACEFUL_TIMEOUT)
        services.close()
        listener.close()
    return 1 if failed else 0


def _first_start_lines(services: Services) -> list[str]:
    first = first_start(services)
    if first is None:
        return []
    return [
        f"Created the workspace owner {services.settings.owner_email}.",
        f"Set their console password at {first.password_link}",
        f"Their API token, shown only this once: {first.token}",
    ]


def _start_engine(services: Services, count: int, stop: threading.Event) -> list[threading.Thread]:
    """The engine's worker threads, and the notification mail thread when there are any."""
    if count:
        collect_less_often()
    name = f"{socket.gethostname()}-{os.getpid()}"
    threads = [
        threading.Thread(target=services.work, args=(f"{name}-{n}", stop), daemon=True)
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    if count:
        threads.append(services.start_mail(name, stop))
    return threads


def _start_gunicorn(settings: Settings, options: ServeOptions, fd: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if MULTIPROC_VARIABLE not in env:  # the web processes' metrics, summed at each scrape
        folder = (settings.data_dir / "metrics").resolve()
        shutil.rmtree(folder, ignore_errors=True)  # counts of an earlier run's processes
        folder.mkdir(parents=True)
        env[MULTIPROC_VARIABLE] = str(folder)
    config = {
        **asdict(options),
        "fd": fd,
        "log_level": settings.log_level,
        "log_format": settings.log_format,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "serving", json.dumps(config)],
        pass_fds=(fd,),
        env=env,
        # Its own session: Ctrl-C reaches this process only, which stops gunicorn gracefully.
        start_new_session=True,
    )


def _stop_gunicorn(web: subprocess.Popen[bytes]) -> bool:
    """Stop gunicorn gracefully (killed if it overruns); whether it had failed by itself."""
    failed = web.poll() is not None
    if not failed:
        web.send_signal(signal.SIGTERM)
    try:
        web.wait(timeout=GRACEFUL_TIMEOUT + 5)
    except subprocess.TimeoutExpired:
        web.kill()
        web.wait()
    return failed


class WebServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's master, configured in code; each worker builds its app after the fork."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        super().__init__()

    def load_config(self) -> None:
        """gunicorn's settings from the serve command's options."""
        config = self.config
        settings = {
            "bind": [f"fd://{config['fd']}"],
            "workers": config["workers"],
            "threads": config["threads"],
            "worker_class": "gthread",
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "logconfig_dict": logs.dict_config(config["log_level"], config["log_format"]),
            "access_log_format": '%(h)s "%(r)s" %(s)s %(B)s bytes %(M)s ms',
            "proc_name": "parley-web",
            "child_exit": _worker_exited,
        }
        if "control_socket_disable" in self.cfg.settings:  # gunicorn 25+: no admin socket
            settings["control_socket_disable"] = True
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The WSGI app, built in each worker process (`serve` has migrated already and
        published the flows folder's set: a web process that restarts runs the published
        flows, not the folder as it is by then)."""
        return create_app(migrate=False, publish_flows=False)


def _worker_exited(_arbiter: Any, worker: Any) -> None:
    mark_process_dead(worker.pid)


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM here when `parley serve` dies, even by `kill -9`."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


if __name__ == "__main__":
    _die_with_parent()
    WebServer(json.loads(sys.argv[1])).run()
