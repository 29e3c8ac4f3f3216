"""Messenger tests run against Parley with a Page connected through the fake Graph API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.fakes.graph_api import FakeGraphApi
from tests.messenger.shop import Shop, open_shop


@pytest.fixture
def allowed_tags() -> tuple[str, ...]:
    """The message tags the deployment allows past 7 days (none, as by default)."""
    return ()


@pytest.fixture
def shop(
    redis_server: str,
    redis_client: redis.Redis,
    graph_api: FakeGraphApi,
    tmp_path: Path,
    db_url: str,
    allowed_tags: tuple[str, ...],
) -> Iterator[Shop]:
    """Parley serving one Page of the fake Graph API (SQLite, and PostgreSQL when set)."""
    with open_shop(graph_api, redis_server, db_url, tmp_path, allowed_tags) as found:
        yield found
