"""Notification tests run a desk with a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from engine.ports import ManualClock
from tests.conftest import SmtpServer
from tests.notifications.desk import Desk, open_desk


@pytest.fixture
def desk(
    redis_server: str,
    redis_client: redis.Redis,
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
) -> Iterator[Desk]:
    """Olga (owner), Ana and Bo, emailed when a visitor waits 10 minutes."""
    with open_desk(redis_server, db_url, tmp_path, smtp_server, ManualClock()) as found:
        yield found
