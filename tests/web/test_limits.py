"""Careless and hostile requests meet limits: a body too large is refused before it is
read, and an error never echoes more than an excerpt of what was sent."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from web.errors import MESSAGE_MAX


@pytest.fixture(autouse=True)
def workspace(owner_token: str) -> None:
    """The widget needs a workspace: the owner's token fixture makes it."""


def _visitor(client: FlaskClient) -> tuple[int, dict[str, str]]:
    started = client.post("/widget/conversations", json={"name": "Ana"}).get_json()
    return started["conversation_id"], {"X-Visitor-Token": started["visitor_token"]}


def test_a_body_over_the_limit_is_refused_with_413_and_not_echoed(client: FlaskClient) -> None:
    conversation, visitor = _visitor(client)
    body = json.dumps({"text": "x" * 5_000_000})
    answer = client.post(
        f"/widget/conversations/{conversation}/messages",
        data=body,
        headers={**visitor, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.get_json()["error"] == {
        "code": "too_large",
        "message": "the request body is over the limit of 1,048,576 bytes",
        "field": None,
    }


def test_an_invalid_long_value_is_quoted_only_in_part(client: FlaskClient) -> None:
    conversation, visitor = _visitor(client)
    answer = client.post(
        f"/widget/conversations/{conversation}/messages",
        json={"text": "y" * 900_000},
        headers=visitor,
    )
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["field"] == "text"
    assert len(error["message"]) <= MESSAGE_MAX
    assert len(answer.get_data()) < 1_000


def test_the_api_document_names_the_limits(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "413" in paths["/widget/conversations"]["post"]["responses"]
    assert "429" in paths["/widget/conversations"]["post"]["responses"]
    assert "429" in paths["/contacts"]["get"]["responses"]  # wrong tokens are counted
    assert "413" not in paths["/contacts"]["get"]["responses"]  # a GET sends no body
