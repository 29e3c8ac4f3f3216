"""Nothing lost, nothing sent twice: an installation on real processes while its workers
are killed, Redis restarts and the database goes away, under a crowd of widget visitors.

Each test asserts exact counts over every conversation: each message the service accepted
is stored once and answered once, each silence after the last answer is nudged once, and
no call failed with a server error. bench/crash_safety.py runs the long version.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import BACKENDS, POSTGRES_URL, reset_schema
from tests.fakes.tcp_proxy import TcpProxy
from tests.service.conftest import ROOT, processes_of
from tests.service.crowd import (
    FLOWS,
    PICK_FLOW,
    Crowd,
    Installation,
    Tally,
    Visitor,
    chaos,
    eventually,
    settle,
    tally,
)

CATCH_UP = 90.0  # seconds at most for the workers to finish once the crowd has gone
PICKING = {**FLOWS, "pick.yaml": PICK_FLOW}


def _environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PARLEY_") and key not in ("REDIS_URL", "DATABASE_URL")
    }
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def folder() -> Iterator[Path]:
    # under /tmp: the Redis socket's path must stay short
    made = Path(tempfile.mkdtemp(prefix="parley-crash-", dir="/tmp"))
    yield made
    shutil.rmtree(made, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def installation(request: pytest.FixtureRequest, folder: Path) -> Iterator[Installation]:
    """Redis with its AOF, `parley serve` and two `parley worker`s, on SQLite or PostgreSQL."""
    env = _environment()
    if request.param == "postgresql":
        assert POSTGRES_URL is not None
        env["DATABASE_URL"] = reset_schema(POSTGRES_URL)
    running = Installation(folder, env)
    yield from _running(running)


def _running(installation: Installation) -> Iterator[Installation]:
    try:
        installation.start()
        yield installation
    finally:
        installation.stop()
        for pid in processes_of(installation.service.port):
            os.kill(pid, signal.SIGKILL)


def _crowd(installation: Installation) -> Crowd:
    return Crowd(installation.service, visitors=60, messages=3, pause=0.3)


def _judged(installation: Installation, crowd: Crowd) -> Tally:
    return settle(crowd, lambda: tally(installation, crowd), within=CATCH_UP)


def _clean(result: Tally) -> tuple[int, int, int]:
    return result.lost, result.duplicated, result.server_errors


def test_workers_killed_at_random_points_lose_and_repeat_nothing(
    installation: Installation,
) -> None:
    crowd = _crowd(installation)
    with chaos(installation, kill_every=1.0, redis_restarts=[]):
        crowd.run(threads=20)
    result = _judged(installation, crowd)
    assert result.kills >= 4
    assert result.accepted == 180
    assert _clean(result) == (0, 0, 0), result.report() + installation.logs()


def test_redis_killed_and_stopped_under_load_loses_and_repeats_nothing(
    installation: Installation,
) -> None:
    crowd = _crowd(installation)
    restarts = [(1.0, signal.SIGKILL), (5.0, signal.SIGTERM)]
    with chaos(installation, kill_every=None, redis_restarts=restarts, outage=2.0):
        crowd.run(threads=20)
    result = _judged(installation, crowd)
    assert result.redis_restarts == 2
    assert result.accepted == 180  # Redis away, the visitors' messages are still taken
    assert _clean(result) == (0, 0, 0), result.report() + installation.logs()


@pytest.fixture
def proxied(folder: Path) -> Iterator[tuple[Installation, TcpProxy]]:
    """An installation on PostgreSQL reached through a proxy the test can cut."""
    if POSTGRES_URL is None:
        pytest.skip("a database outage is staged on PostgreSQL (TEST_DATABASE_URL)")
    target = urlsplit(POSTGRES_URL)
    proxy = TcpProxy((target.hostname or "127.0.0.1", target.port or 5432))
    env = _environment()
    through = POSTGRES_URL.replace(target.netloc, f"{target.username}@127.0.0.1:{proxy.port}")
    env["DATABASE_URL"] = reset_schema(through)
    try:
        for running in _running(Installation(folder, env)):
            yield running, proxy
    finally:
        proxy.close()


def test_the_database_cut_off_under_load_loses_and_repeats_nothing(
    proxied: tuple[Installation, TcpProxy],
) -> None:
    installation, proxy = proxied
    crowd = _crowd(installation)
    with chaos(
        installation, kill_every=None, redis_restarts=[], database=(proxy, crowd.writing, 2.0)
    ):
        crowd.run(threads=20)
    result = _judged(installation, crowd)
    assert result.unavailable > 0  # the calls during the cut were answered 503, and retried
    assert result.accepted == 180
    assert _clean(result) == (0, 0, 0), result.report() + installation.logs()


def _button(crowd: Crowd, visitor: Visitor) -> str:
    """The payload of the button the `pick` flow sent the visitor, once it is there."""

    def payload() -> str | None:
        for message in crowd.read(visitor):
            if message["text"] == "Pick one":
                return str(message["attachments"][0]["buttons"][0]["payload"])
        return None

    found = eventually(payload, lambda seen: seen is not None, CATCH_UP)
    assert found is not None, f"visitor {visitor.number} never got the button"
    return found


@pytest.fixture
def picking(folder: Path) -> Iterator[Installation]:
    """An installation whose flows also ask each new visitor to pick a button."""
    yield from _running(Installation(folder, _environment(), flows=PICKING))


def _agent_replies(crowd: Crowd, visitor: Visitor, token: str | None) -> int:
    path = f"/conversations/{visitor.conversation}/messages"
    headers = {"Authorization": f"Bearer {token}"}
    return crowd.call("POST", path, {"text": "An agent here"}, headers)[0]


def test_a_click_a_message_and_an_agent_reply_at_once_move_a_run_on_once(
    picking: Installation,
) -> None:
    crowd = Crowd(picking.service, visitors=20, messages=0, pause=0.0)
    crowd.run(threads=10)  # each visitor opens a conversation: `pick` asks them to pick
    buttons = [_button(crowd, visitor) for visitor in crowd.visitors]
    token = picking.service.token
    with chaos(picking, kill_every=1.0, redis_restarts=[]), ThreadPoolExecutor(30) as pool:
        visitors = crowd.visitors
        clicks = [pool.submit(crowd.click, v, b) for v, b in zip(visitors, buttons, strict=True)]
        writes = [pool.submit(crowd.write, visitor, "hello") for visitor in visitors]
        replies = [pool.submit(_agent_replies, crowd, visitor, token) for visitor in visitors]
        assert [click.result() for click in clicks] == [202] * 20
        assert [reply.result() for reply in replies] == [201] * 20
        for written in writes:
            written.result()
    result = _judged(picking, crowd)
    assert _clean(result) == (0, 0, 0), result.report() + picking.logs()
    thanks = [sum(m["text"] == "Thanks" for m in crowd.read(v)) for v in crowd.visitors]
    assert thanks == [1] * 20
    owner = {"Authorization": f"Bearer {token}"}
    status, funnel = picking.service.call("GET", "/flows/pick/funnel", headers=owner)
    assert status == 200
    visitors_seen = ("triggered_visitors", "engaged_visitors", "completed_visitors")
    assert [funnel[figure] for figure in visitors_seen] == [20, 20, 20]
