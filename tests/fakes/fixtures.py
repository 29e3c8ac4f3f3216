"""Pytest fixtures for the fakes, registered from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.graph_api import FakeGraphApi


@pytest.fixture
def graph_api() -> Iterator[FakeGraphApi]:
    """A fake Graph API on a free loopback port, for the length of one test."""
    fake = FakeGraphApi().start()
    try:
        yield fake
    finally:
        fake.stop()
