"""Redis stopped and started again under load, on real processes: the service keeps every
visitor message, answers Redis-bound calls with 503, and the bot answers each message once
when Redis is back."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.redis_server import EmbeddedRedis
from tests.service.conftest import Service

VISITORS = 4
ROUNDS = 6  # messages per visitor; Redis is away during rounds 2 and 3
ANSWER_WAIT = 60.0  # seconds at most for the bot to catch up once Redis is back


@pytest.fixture
def own_redis(service: Service) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(service.folder / "redis")
    server.start()
    service.env["REDIS_URL"] = server.url
    try:
        yield server
    finally:
        server.stop()


def _write(service: Service, visitor: dict[str, str], text: str) -> int:
    conversation = visitor["conversation"]
    status, _ = service.call(
        "POST",
        f"/widget/conversations/{conversation}/messages",
        {"text": text},
        headers={"X-Visitor-Token": visitor["token"]},
    )
    return status


def _answers(service: Service, visitor: dict[str, str]) -> int:
    status, body = service.call(
        "GET",
        f"/widget/conversations/{visitor['conversation']}/messages",
        headers={"X-Visitor-Token": visitor["token"]},
    )
    assert status == 200
    return sum(m["sender"] == "bot" and m["text"] == "Got it." for m in body["messages"])


def _outbox(service: Service) -> int:
    with sqlite3.connect(service.data_dir / "parley.db") as db:
        return int(db.execute("SELECT count(*) FROM event_outbox").fetchone()[0])


def test_every_message_is_answered_once_across_a_redis_restart(
    service: Service, own_redis: EmbeddedRedis
) -> None:
    service.start()
    owner = {"Authorization": f"Bearer {service.token}"}
    visitors = []
    for n in range(VISITORS):
        status, body = service.call("POST", "/widget/conversations", {"name": f"V{n}"})
        assert status == 201
        visitors.append({"conversation": body["conversation_id"], "token": body["visitor_token"]})

    statuses: list[int] = []
    with ThreadPoolExecutor(VISITORS) as pool:
        for round_ in range(ROUNDS):
            if round_ == 2:
                own_redis.stop()
                assert service.call("GET", "/readyz")[0] == 503
                status, body = service.call("GET", "/flows/echo/funnel", headers=owner)
                assert (status, body["error"]["code"]) == (503, "unavailable")
            if round_ == 4:
                own_redis.start()
            texts = [f"message {round_}"] * VISITORS
            statuses += pool.map(_write, [service] * VISITORS, visitors, texts)

    assert statuses == [201] * (VISITORS * ROUNDS)  # every message kept, none a 500
    caught_up = threading.Event()
    for _ in range(int(ANSWER_WAIT / 0.25)):  # real processes: real time is the point here
        if _outbox(service) == 0 and all(_answers(service, v) >= ROUNDS for v in visitors):
            caught_up.set()
            break
        caught_up.wait(0.25)
    assert caught_up.is_set(), service.log()[-3000:]
    assert [_answers(service, v) for v in visitors] == [ROUNDS] * VISITORS  # none twice
    assert service.stop() == 0
