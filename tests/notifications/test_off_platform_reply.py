"""A reply an agent sends from Meta's Page inbox ends the visitor's wait like any other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from engine.ports import ManualClock
from tests.conftest import SmtpServer
from tests.fakes.graph_api import FakeGraphApi
from tests.notifications.desk import Desk, open_desk


@pytest.fixture
def desk(
    redis_server: str,
    redis_client: redis.Redis,
    graph_api: FakeGraphApi,
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
) -> Iterator[Desk]:
    """The desk, with a Facebook Page connected."""
    clock = ManualClock(graph_api.clock)
    with open_desk(redis_server, db_url, tmp_path, smtp_server, clock, graph_api) as found:
        yield found


def test_an_off_platform_reply_cancels_the_email(desk: Desk) -> None:
    desk.writes_on_messenger("Carla", "Do you ship to Lisbon?")
    desk.minutes_pass(5)
    desk.replies_from_the_page_inbox("Carla", "Yes we do!")
    desk.minutes_pass(30)
    assert desk.emails() == []


def test_without_that_reply_every_member_is_emailed(desk: Desk) -> None:
    desk.writes_on_messenger("Carla", "Do you ship to Lisbon?")
    desk.minutes_pass(10)
    assert len(desk.emails()) == 3
