"""A crowd of widget visitors against real Parley processes while things break under it.

An `Installation` is what an operator runs: a redis-server with its AOF (fsync every
second), `parley serve` without engine workers, and separate `parley worker` processes that
can be killed with SIGKILL and started again. A `Crowd` of visitors each writes a few
messages to two flows, one answering every message and one nudging after a silence, and
then reads its conversation back. `Tally.of` judges the conversations: every message
accepted (201) is stored once and answered once, and each silence after the last answer
gets one nudge, no more.

The suite's short runs (tests/service/test_crashes.py) and the long one
(bench/crash_safety.py) share this code.
"""

from __future__ import annotations

import http.client
import itertools
import os
import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from engine.redis_server import EmbeddedRedis
from tests.engine.flows import ECHO
from tests.service.conftest import Service, free_port, parley

SILENCE = 10  # seconds: the nudge flow's `after`, the shortest the flow language allows
FLOWS = {
    "echo.yaml": ECHO,
    "nudge.yaml": f"""\
id: nudge
trigger:
  visitor_timeout:
    after: {SILENCE}s
start: nudge
steps:
  nudge:
    say: "Still there?"
    end: true
""",
}
# A button the visitor clicks while writing and while an agent replies (tests/service/
# test_crashes.py): the click moves the run on, once.
PICK_FLOW = """\
id: pick
trigger:
  conversation_started:
start: ask
steps:
  ask:
    say: "Pick one"
    buttons:
      - {label: "Yes", goto: done}
  done:
    say: "Thanks"
    end: true
"""
NUDGE = "Still there?"
T = TypeVar("T")
ANSWER = "You said "  # the echo flow's answer, before the visitor's text
GIVE_UP = 60.0  # seconds a visitor keeps trying one call
POLL = 0.5  # seconds between two looks at the processes under test (or two tries of a call)


@dataclass
class Visitor:
    """One widget visitor: their conversation, token and what the service accepted."""

    number: int
    conversation: int = 0
    token: str = ""
    accepted: list[str] = field(default_factory=list)  # texts answered 201


@dataclass
class Tally:
    """What the conversations show, against what the visitors did."""

    visitors: int = 0
    accepted: int = 0  # visitor messages answered 201
    stored_twice: int = 0  # visitor messages stored more than once
    answers_lost: int = 0  # accepted messages without a bot answer
    answers_doubled: int = 0  # answers beyond the first for a message
    nudges_lost: int = 0  # conversations whose last answer got no nudge
    nudges_doubled: int = 0  # nudges that follow a nudge with no answer between
    server_errors: int = 0  # 5xx other than 503, and broken connections
    unavailable: int = 0  # 503 answers, each retried
    kills: int = 0
    redis_restarts: int = 0

    @property
    def lost(self) -> int:
        return self.answers_lost + self.nudges_lost

    @property
    def duplicated(self) -> int:
        return self.stored_twice + self.answers_doubled + self.nudges_doubled

    def judge(self, visitor: Visitor, messages: list[dict[str, Any]]) -> None:
        """Add what one conversation shows."""
        said = Counter(m["text"] for m in messages if m["sender"] == "visitor")
        answers = Counter(
            m["text"].removeprefix(ANSWER)
            for m in messages
            if m["sender"] == "bot" and m["text"].startswith(ANSWER)
        )
        self.accepted += len(visitor.accepted)
        for text in visitor.accepted:
            self.stored_twice += max(said[text] - 1, 0)
            self.answers_lost += answers[text] == 0
            self.answers_doubled += max(answers[text] - 1, 0)
        bot = [m["text"] for m in messages if m["sender"] == "bot"]
        self.nudges_doubled += sum(a == b == NUDGE for a, b in itertools.pairwise(bot))
        self.nudges_lost += bool(bot) and bot[-1] != NUDGE

    def report(self) -> str:
        """One line per figure, for people."""
        return "\n".join(f"{name:16} {value}" for name, value in self.figures().items())

    def figures(self) -> dict[str, int]:
        return {
            "visitors": self.visitors,
            "accepted": self.accepted,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "server_errors": self.server_errors,
            "unavailable_503": self.unavailable,
            "worker_kills": self.kills,
            "redis_restarts": self.redis_restarts,
            "answers_lost": self.answers_lost,
            "answers_doubled": self.answers_doubled,
            "nudges_lost": self.nudges_lost,
            "nudges_doubled": self.nudges_doubled,
            "stored_twice": self.stored_twice,
        }


class Installation:
    """Redis with its AOF, `parley serve` and `parley worker`s, in one folder."""

    def __init__(
        self, folder: Path, env: dict[str, str], *, workers: int = 2, flows: dict[str, str] = FLOWS
    ) -> None:
        self.folder = folder
        (folder / "flows").mkdir(exist_ok=True)
        for name, text in flows.items():
            (folder / "flows" / name).write_text(text)
        self.redis = EmbeddedRedis(folder / "redis")
        # the whole crowd comes from one address: the widget's rate limits would stop it
        self.env = {**env, "PARLEY_RATE_WIDGET_START": "off", "PARLEY_RATE_WIDGET_ACT": "off"}
        self.service = Service(folder, free_port(), self.env)
        self.worker_count = workers
        self.workers: list[subprocess.Popen[bytes]] = []
        self.kills = 0
        self.redis_restarts = 0
        self._started = 0

    def start(self) -> None:
        self.redis.start()
        self.env["REDIS_URL"] = self.redis.url
        self.service.start("--workers", "2", "--threads", "16", "--engine-workers", "0")
        for _ in range(self.worker_count):
            self.workers.append(self._worker())

    def _worker(self) -> subprocess.Popen[bytes]:
        self._started += 1
        with (self.folder / "workers.log").open("ab") as log:
            return subprocess.Popen(
                parley("worker", "--name", f"worker-{self._started}"),
                cwd=self.folder,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def kill_a_worker(self, chance: random.Random) -> None:
        """SIGKILL one worker, wherever it is in its batch, and start another in its place."""
        index = chance.randrange(len(self.workers))
        victim = self.workers[index]
        victim.kill()
        victim.wait()
        self.kills += 1
        self.workers[index] = self._worker()

    def restart_redis(self, signum: int, outage: float, stop: threading.Event) -> None:
        """Stop Redis with `signum` (SIGKILL loses what the AOF had not yet fsynced), leave
        it away for `outage` seconds (less when `stop` is set), start it again from its AOF."""
        assert self.redis.pid is not None
        os.kill(self.redis.pid, signum)
        self.redis.stop()  # our share of the dead server
        stop.wait(outage)  # the processes under test live on the wall clock: so does this
        self.redis.start()
        self.redis_restarts += 1

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill()
            worker.wait()
        if self.service.process is not None and self.service.process.poll() is None:
            self.service.stop()
        self.redis.stop()

    def logs(self) -> str:
        return self.service.log()[-3000:] + (self.folder / "workers.log").read_text()[-3000:]


class Crowd:
    """Visitors who each write `messages` messages, `pause` seconds apart (the pace is what
    lets bot answers, silence clocks and crashes interleave: without it the crowd is done
    before a killed worker's shards are taken over)."""

    def __init__(self, service: Service, visitors: int, messages: int, pause: float) -> None:
        self.service = service
        self.visitors = [Visitor(n) for n in range(visitors)]
        self.messages = messages
        self.pause = pause
        self.server_errors = 0
        self.unavailable = 0
        self.writing = threading.Event()  # set at the first message the service accepted
        self._lock = threading.Lock()

    def run(self, threads: int) -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(self._visit, self.visitors))

    def _visit(self, visitor: Visitor) -> None:
        name = {"name": f"V{visitor.number}"}
        status, body = self.call("POST", "/widget/conversations", name, None)
        if status not in (200, 201):
            return  # the service never answered: counted as server errors
        visitor.conversation, visitor.token = body["conversation_id"], body["visitor_token"]
        for n in range(self.messages):
            self.write(visitor, f"v{visitor.number} m{n}")
            wall_clock(self.pause)  # a visitor types at human speed

    def write(self, visitor: Visitor, text: str) -> None:
        """The visitor writes `text`; kept among the accepted when the service has it."""
        path = f"/widget/conversations/{visitor.conversation}/messages"
        body = {"text": text, "client_id": f"m{len(visitor.accepted)}"}  # as the widget retries
        status, _ = self.call("POST", path, body, self._visitor(visitor))
        if status in (200, 201):  # 200: the service had it from a call whose answer was lost
            visitor.accepted.append(text)
            self.writing.set()

    def click(self, visitor: Visitor, payload: str) -> int:
        """The visitor clicks the button with `payload`; the status."""
        path = f"/widget/conversations/{visitor.conversation}/clicks"
        return self.call("POST", path, {"payload": payload}, self._visitor(visitor))[0]

    def read(self, visitor: Visitor) -> list[dict[str, Any]]:
        """The visitor's conversation, every message in order."""
        messages: list[dict[str, Any]] = []
        while visitor.conversation:
            path = f"/widget/conversations/{visitor.conversation}/messages"
            after = messages[-1]["id"] if messages else 0
            status, body = self.call("GET", f"{path}?after={after}", None, self._visitor(visitor))
            if status != 200 or not body["messages"]:
                break
            messages += body["messages"]
        return messages

    @staticmethod
    def _visitor(visitor: Visitor) -> dict[str, str]:
        return {"X-Visitor-Token": visitor.token}

    def call(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None
    ) -> tuple[int, Any]:
        """One call, tried again after a 503 (as the widget does) or a broken connection,
        for GIVE_UP seconds at most; the last answer."""

        def attempt() -> tuple[int, Any]:
            try:
                status, answer = self.service.call(method, path, body, headers=headers)
            except (OSError, http.client.HTTPException):
                status, answer = 0, None
            if not 0 < status < 500:
                with self._lock:
                    if status == 503:
                        self.unavailable += 1
                    else:
                        self.server_errors += 1
            return status, answer

        return eventually(attempt, lambda answered: 0 < answered[0] < 500, GIVE_UP)


def wall_clock(seconds: float) -> None:
    """Let `seconds` pass on the wall clock. The processes under test run on it (their
    timers, leases and Redis' own clock): a virtual clock cannot reach them, so here real
    time is the point; every wait of this harness comes through this one place."""
    threading.Event().wait(seconds)


def eventually(look: Callable[[], T], done: Callable[[T], bool], within: float) -> T:
    """Look at the processes under test every POLL seconds until `done` holds for what is
    seen, or `within` seconds have passed; the last look."""
    deadline = time.monotonic() + within
    while True:
        seen = look()
        if done(seen) or time.monotonic() > deadline:
            return seen
        wall_clock(POLL)


def settle(crowd: Crowd, tally_of: Callable[[], Tally], within: float) -> Tally:
    """Read the conversations until nothing is missing or `within` seconds have passed;
    the last reading."""
    return eventually(tally_of, lambda tally: tally.lost == 0, within)


def tally(installation: Installation, crowd: Crowd) -> Tally:
    """Judge every visitor's conversation as it stands."""
    result = Tally(visitors=len(crowd.visitors))
    with ThreadPoolExecutor(8) as pool:
        conversations = list(pool.map(crowd.read, crowd.visitors))
    for visitor, messages in zip(crowd.visitors, conversations, strict=True):
        result.judge(visitor, messages)
    result.server_errors = crowd.server_errors
    result.unavailable = crowd.unavailable
    result.kills = installation.kills
    result.redis_restarts = installation.redis_restarts
    return result


class Cut(Protocol):
    """Something that takes a server away at the network and brings it back (a TcpProxy)."""

    def cut(self) -> None: ...

    def restore(self) -> None: ...


@contextmanager
def chaos(
    installation: Installation,
    *,
    kill_every: float | None,
    redis_restarts: Sequence[tuple[float, int]],
    outage: float = 3.0,
    database: tuple[Cut, threading.Event, float] | None = None,
    seed: int = 12,
) -> Iterator[None]:
    """While the body runs: kill a worker every `kill_every` seconds (on average), restart
    Redis at each `(seconds from now, signal)`, and cut the database off for a while
    (`(proxy, once this is set, for how long)`: a cut at a fixed time could fall before the
    service answers anything on a slow machine)."""
    stop = threading.Event()
    chance = random.Random(seed)

    def kill() -> None:
        assert kill_every is not None
        while not stop.wait(chance.uniform(0.5, 1.5) * kill_every):
            installation.kill_a_worker(chance)

    def restart() -> None:
        begun = time.monotonic()
        for at, signum in redis_restarts:
            if stop.wait(max(0.0, begun + at - time.monotonic())):
                return
            installation.restart_redis(signum, outage, stop)

    def cut_the_database() -> None:
        assert database is not None
        proxy, begun, away = database
        while not begun.wait(0.05):
            if stop.is_set():
                return
        if not stop.is_set():
            proxy.cut()
            stop.wait(away)
            proxy.restore()

    threads = [threading.Thread(target=restart)]
    if kill_every:
        threads.append(threading.Thread(target=kill))
    if database:
        threads.append(threading.Thread(target=cut_the_database))
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()
