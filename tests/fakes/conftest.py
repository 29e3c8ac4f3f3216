"""Fixtures of the fakes' own tests: a Page and a person who has just written to it."""

from __future__ import annotations

import pytest

from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_state import Page, Person


@pytest.fixture
def page(graph_api: FakeGraphApi) -> Page:
    """A Page of the fake."""
    return graph_api.add_page()


@pytest.fixture
def person(graph_api: FakeGraphApi, page: Page) -> Person:
    """Someone who has just written to the Page."""
    message = graph_api.visitor_message(page.id, text="hello")
    graph_api.take_webhooks()
    return graph_api.people[message.sender]
