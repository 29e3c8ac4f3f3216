"""Parley's Graph API client against the fake Graph API, over real HTTP on loopback."""

from __future__ import annotations

import socket
from email.message import Message

import pytest

from channels.messenger.graph import (
    GraphClient,
    GraphError,
    QuickReply,
    Usage,
    parse_usage,
)
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_state import DAY, Page, Person


@pytest.fixture
def client(graph_api: FakeGraphApi) -> GraphClient:
    """A client of the fake, patient enough for a busy machine."""
    return GraphClient(graph_api.url, timeout=10)


@pytest.fixture
def impatient(graph_api: FakeGraphApi) -> GraphClient:
    """A client that gives up long before the fake answers a held request."""
    return GraphClient(graph_api.url, timeout=0.3)


def failure(
    client: GraphClient, graph_page: Page, graph_visitor: Person, **options: str
) -> GraphError:
    """The GraphError a send raises."""
    with pytest.raises(GraphError) as raised:
        client.send_message(graph_page.id, graph_page.token, graph_visitor.psid, "hi", **options)  # type: ignore[arg-type]
    return raised.value


def test_a_send_with_quick_replies_tag_and_metadata(
    graph_api: FakeGraphApi, client: GraphClient, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.advance(2 * DAY)
    sent = client.send_message(
        graph_page.id,
        graph_page.token,
        graph_visitor.psid,
        "Still there?",
        quick_replies=[QuickReply("Yes", "YES")],
        messaging_type="MESSAGE_TAG",
        tag="HUMAN_AGENT",
        metadata="cs:out:1",
    )
    [recorded] = graph_api.sent
    assert (sent.message_id, sent.recipient_id) == (recorded.message_id, graph_visitor.psid)
    assert (recorded.tag, recorded.metadata) == ("HUMAN_AGENT", "cs:out:1")
    assert recorded.quick_replies == [{"content_type": "text", "title": "Yes", "payload": "YES"}]
    request = graph_api.requests[-1]
    assert "access_token" not in request.params  # the token travels in the header only
    assert request.headers["Authorization"] == f"Bearer {graph_page.token}"


def test_a_send_outside_the_window(
    graph_api: FakeGraphApi, client: GraphClient, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.advance(2 * DAY)
    error = failure(client, graph_page, graph_visitor)
    assert (error.reason, error.code, error.subcode) == ("window_closed", 10, 2018278)
    assert error.window_closed
    assert not error.transient
    assert error.fbtrace_id


@pytest.mark.parametrize(
    ("code", "subcode", "reason"),
    [
        (551, None, "person_unavailable"),
        (551, 1545041, "window_closed"),
        (10, 2534022, "window_closed"),
        (190, None, "token_expired"),
        (4, None, "throttled"),
        (17, None, "throttled"),
        (32, None, "throttled"),
        (613, None, "throttled"),
        (80006, None, "throttled"),
        (10, 1893063, "page_restricted"),
        (2, None, "unavailable"),
        (1, None, "unavailable"),
        (100, None, "invalid"),
        (None, None, "unavailable"),
    ],
)
def test_each_graph_error_has_its_reason(
    graph_api: FakeGraphApi,
    client: GraphClient,
    graph_page: Page,
    graph_visitor: Person,
    code: int | None,
    subcode: int | None,
    reason: str,
) -> None:
    graph_api.fail_next("messages", code, subcode=subcode)
    error = failure(client, graph_page, graph_visitor)
    assert (error.code, error.subcode, error.reason) == (code, subcode, reason)
    assert error.throttled == (reason == "throttled")
    assert error.transient == (reason == "unavailable")
    # Meta: a send may succeed despite code 1; a bare 5xx may come after it was carried out
    assert error.delivered_unknown == (code in (1, None))


def test_a_bad_token_is_never_repeated_in_the_error(
    graph_api: FakeGraphApi, client: GraphClient, graph_page: Page
) -> None:
    secret = "EAAsecret-token-value"
    with pytest.raises(GraphError) as raised:
        client.conversations(graph_page.id, secret)
    assert raised.value.reason == "token_expired"
    assert secret not in f"{raised.value} {raised.value!r} {raised.value.args}"


def test_throttles_say_how_long_to_wait(
    graph_api: FakeGraphApi, client: GraphClient, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.fail_next("messages", 80006, regain_minutes=7)
    assert failure(client, graph_page, graph_visitor).retry_after == 7 * 60
    assert client.last_usage is not None
    assert client.last_usage.estimated_time_to_regain_access == 7
    graph_api.fail_next("messages", 613)
    throttled = failure(client, graph_page, graph_visitor)
    assert throttled.throttled
    assert throttled.retry_after is None  # no word on how long: the caller's backoff decides
    graph_api.fail_next("messages", http_status=429)  # an edge's bare 429, no Graph error
    assert failure(client, graph_page, graph_visitor).reason == "throttled"


def test_a_timeout_may_have_delivered_the_message(
    graph_api: FakeGraphApi, impatient: GraphClient, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.fail_next("messages", timeout=True)
    error = failure(impatient, graph_page, graph_visitor)
    assert (error.reason, error.delivered_unknown) == ("unavailable", True)
    assert len(graph_api.sent) == 1  # it was: the next attempt must not send it again blindly


def test_a_timeout_on_a_read_is_only_unavailable(
    graph_api: FakeGraphApi, impatient: GraphClient, graph_page: Page
) -> None:
    graph_api.fail_next("conversations", timeout=True)
    with pytest.raises(GraphError) as raised:
        impatient.conversations(graph_page.id, graph_page.token)
    assert (raised.value.reason, raised.value.delivered_unknown) == ("unavailable", False)


def test_an_unreachable_graph_is_unavailable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(GraphError) as raised:
        GraphClient(f"http://127.0.0.1:{port}").send_message("1", "token", "2", "hi")
    assert (raised.value.reason, raised.value.delivered_unknown) == ("unavailable", False)
    assert raised.value.http_status is None


def test_usage_headers_are_kept_from_the_last_answer(
    graph_api: FakeGraphApi, client: GraphClient, graph_page: Page
) -> None:
    graph_api.usage = {"call_count": 45, "total_cputime": 9, "total_time": 12}
    graph_api.app_usage = {"call_count": 60, "total_cputime": 2, "total_time": 3}
    client.subscribe(graph_page.id, graph_page.token)
    assert client.last_usage == Usage(60, 9, 12, 0)
    assert graph_page.subscribed_fields[:2] == ["messages", "messaging_postbacks"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"X-App-Usage": "not json"}, None),
        ({"X-App-Usage": '{"call_count": 5, "total_time": "7"}'}, Usage(5, 0, 7, 0)),
        (
            {"X-Business-Use-Case-Usage": '{"1": [{"call_count": 3}, {"call_count": 99}]}'},
            Usage(99, 0, 0, 0),
        ),
    ],
)
def test_parse_usage(headers: dict[str, str], expected: Usage | None) -> None:
    message = Message()
    for name, value in headers.items():
        message[name] = value
    assert parse_usage(message) == expected


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        (
            "full",
            {
                "first_name": "Ana",
                "last_name": "Silva",
                "name": "Ana Silva",
                "profile_pic": "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=",
            },
        ),
        ("none", {}),
        ("phone_only", {}),
    ],
)
def test_profiles(
    graph_api: FakeGraphApi,
    client: GraphClient,
    graph_page: Page,
    access: str,
    expected: dict[str, str],
) -> None:
    graph_visitor = graph_api.add_person(graph_page.id, profile=access)  # type: ignore[arg-type]
    profile = client.profile(graph_visitor.psid, graph_page.token)
    if "profile_pic" in expected:
        expected["profile_pic"] += graph_visitor.psid
    assert profile == expected


def test_paging_through_every_conversation(
    graph_api: FakeGraphApi, client: GraphClient, graph_page: Page
) -> None:
    graph_api.seed_conversations(graph_page.id, 1050)
    graph_api.short_pages = 4
    seen: list[str] = []
    after = None
    while True:
        batch = client.conversations(graph_page.id, graph_page.token, after=after)
        seen += [conversation["id"] for conversation in batch.conversations]
        if batch.after is None:
            break
        after = batch.after
    assert len(seen) == len(set(seen)) == 1050
    first = client.conversations(graph_page.id, graph_page.token, limit=1).conversations[0]
    assert len(first["messages"]["data"]) == 20
    assert first["messages"]["data"][0]["message"] == "message 25 of thread 1"
    bare = client.conversations(graph_page.id, graph_page.token, limit=1, messages=0).conversations[
        0
    ]
    assert "messages" not in bare
