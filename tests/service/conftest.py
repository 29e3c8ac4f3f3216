"""`parley serve` as an operator runs it: real processes, a real port, real signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ECHO_FLOW = """\
id: echo
name: Answer every message
mode: restart
trigger:
  message_received:
start: answer
steps:
  answer:
    say: "Got it."
    end: true
"""
STOP_TIMEOUT = 40  # seconds: gunicorn's graceful stop, the engine threads, Redis' SHUTDOWN


def parley(*args: str) -> list[str]:
    """The command line of `parley ARGS` in this interpreter."""
    return [sys.executable, "-c", "from cli import main; main()", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    """One `parley serve` process and where it keeps its state."""

    folder: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    token: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.folder / "var"

    def start(self, *args: str) -> None:
        """Start serving and wait until its port is bound (the first start prints a token)."""
        log = (self.folder / "serve.log").open("a")
        self.process = subprocess.Popen(
            parley("serve", "--port", str(self.port), "--workers", "1", "--threads", "4", *args),
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        stdout = self.process.stdout
        assert stdout is not None
        for line in _lines(stdout):
            if line.startswith("Their API token"):
                self.token = line.rsplit(" ", 1)[1]
            if line.startswith("Parley serves"):
                return
        raise AssertionError(f"parley serve did not start:\n{self.log()}")

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One HTTP call; its status and decoded JSON body. Waits in the listen backlog while
        gunicorn's workers boot, so no polling is needed after start()."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send `signum` and wait for the exit status."""
        assert self.process is not None
        self.process.send_signal(signum)
        status = self.process.wait(timeout=STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`parley ARGS` beside the service, in its folder, with `env` added."""
        return subprocess.run(
            parley(*args),
            cwd=self.folder,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    def redis_pid(self) -> int:
        return int((self.data_dir / "redis.pid").read_text())

    def log(self) -> str:
        return (self.folder / "serve.log").read_text()


def _lines(stream: IO[str]) -> Iterator[str]:
    while line := stream.readline():
        yield line.rstrip("\n")


def alive(pid: int) -> bool:
    """Whether a process with this id runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def processes_of(port: int) -> list[int]:
    """Every process started for the service on `port` (gunicorn's carry it in their args)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if f'"port": {port},'.encode() in cmdline and alive(int(proc.name)):
                found.append(int(proc.name))
    return found


@pytest.fixture
def service() -> Iterator[Service]:
    """A service folder with one flow that answers every message, on a free port."""
    folder = Path(tempfile.mkdtemp(prefix="parley-serve-", dir="/tmp"))
    (folder / "flows").mkdir()
    (folder / "flows" / "echo.yaml").write_text(ECHO_FLOW)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PARLEY_") and key not in ("REDIS_URL", "DATABASE_URL")
    }
    env["PYTHONPATH"] = str(ROOT)
    served = Service(folder, free_port(), env)
    try:
        yield served
    finally:
        if served.process is not None and served.process.poll() is None:
            served.stop(signal.SIGKILL)
        for pid in processes_of(served.port):
            os.kill(pid, signal.SIGKILL)
        if (served.data_dir / "redis.pid").exists() and alive(served.redis_pid()):
            os.kill(served.redis_pid(), signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
