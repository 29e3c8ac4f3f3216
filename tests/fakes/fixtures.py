"""Pytest fixtures for the fakes, registered from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_state import Page, Person


@pytest.fixture
def graph_api() -> Iterator[FakeGraphApi]:
    """A fake Graph API on a free loopback port, for the length of one test."""
    fake = FakeGraphApi().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def graph_page(graph_api: FakeGraphApi) -> Page:
    """A Page of the fake Graph API, with its token."""
    return graph_api.add_page()


@pytest.fixture
def graph_visitor(graph_api: FakeGraphApi, graph_page: Page) -> Person:
    """Someone who has just written "hello" to the Page (its webhook is queued)."""
    return graph_api.people[graph_api.visitor_message(graph_page.id, text="hello").sender]
