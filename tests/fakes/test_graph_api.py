"""The fake Graph API behaves as messenger.md says Meta's does, over real HTTP on loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_state import DAY, Page, Person

HOUR = 3600.0


def call(
    fake: FakeGraphApi,
    method: str,
    path: str,
    token: str | None = None,
    *,
    query: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """One request to the fake: the status, the JSON answer and the headers."""
    url = path if path.startswith("http") else f"{fake.url}{path}"
    url += f"?{urlencode(query)}" if query else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urlencode(form).encode()
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            raw = error.read()
            answer = (
                json.loads(raw) if error.headers.get_content_type() == "application/json" else raw
            )
            return error.code, answer, dict(error.headers)


def send(fake: FakeGraphApi, graph_page: Page, psid: str, **fields: Any) -> tuple[int, Any]:
    """POST /{page}/messages with a text and the given top-level fields."""
    body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}
    status, answer, _ = call(
        fake, "POST", f"/v24.0/{graph_page.id}/messages", graph_page.token, body=body | fields
    )
    return status, answer


def error_of(answer: Any) -> tuple[int, int | None]:
    """A Graph error's code and subcode."""
    return answer["error"]["code"], answer["error"].get("error_subcode")


def test_a_bad_token_gets_graphs_oauth_error(graph_api: FakeGraphApi, graph_page: Page) -> None:
    status, answer, _ = call(graph_api, "GET", f"/v24.0/{graph_page.id}/subscribed_apps", "nope")
    assert status == 400
    assert answer["error"]["type"] == "OAuthException"
    assert answer["error"]["code"] == 190
    assert answer["error"]["fbtrace_id"]


def test_the_token_may_come_as_a_parameter_and_any_version_is_served(
    graph_api: FakeGraphApi, graph_page: Page
) -> None:
    query = {"access_token": graph_page.token}
    status, answer, _ = call(
        graph_api, "GET", f"/v19.0/{graph_page.id}/subscribed_apps", query=query
    )
    assert (status, answer) == (200, {"data": []})


@pytest.mark.parametrize(
    ("age", "messaging_type", "tag", "expected"),
    [
        (1 * HOUR, "RESPONSE", None, None),
        (23 * HOUR, "UPDATE", None, None),
        (25 * HOUR, "RESPONSE", None, (10, 2018278)),
        (25 * HOUR, "MESSAGE_TAG", "HUMAN_AGENT", None),
        (7 * DAY, "MESSAGE_TAG", "HUMAN_AGENT", None),
        (8 * DAY, "MESSAGE_TAG", "HUMAN_AGENT", (10, 2018278)),
        (8 * DAY, "RESPONSE", None, (10, 2018278)),
        (8 * DAY, "MESSAGE_TAG", "CONFIRMED_EVENT_UPDATE", (100, None)),
        (1 * HOUR, "MESSAGE_TAG", "ACCOUNT_UPDATE", (100, None)),
        (1 * HOUR, "MESSAGE_TAG", None, (100, None)),
        (1 * HOUR, "RESPONSE", "HUMAN_AGENT", (100, None)),
    ],
)
def test_the_reply_window_and_message_tags(
    graph_api: FakeGraphApi,
    graph_page: Page,
    graph_visitor: Person,
    age: float,
    messaging_type: str,
    tag: str | None,
    expected: tuple[int, int | None] | None,
) -> None:
    graph_api.advance(age)
    fields = {"messaging_type": messaging_type} | ({"tag": tag} if tag else {})
    status, answer = send(graph_api, graph_page, graph_visitor.psid, **fields)
    if expected is None:
        assert status == 200
        assert answer["recipient_id"] == graph_visitor.psid
    else:
        assert error_of(answer) == expected
        assert graph_api.sent == []


def test_a_platform_that_still_takes_retired_tags(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.retired_tags.clear()
    graph_api.advance(30 * DAY)
    status, _ = send(
        graph_api,
        graph_page,
        graph_visitor.psid,
        messaging_type="MESSAGE_TAG",
        tag="ACCOUNT_UPDATE",
    )
    assert status == 200
    assert graph_api.sent[0].tag == "ACCOUNT_UPDATE"


def test_the_error_for_a_send_outside_the_window(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.advance(2 * DAY)
    _, answer = send(graph_api, graph_page, graph_visitor.psid)
    assert answer["error"]["message"] == "(#10) This message is sent outside of allowed window"


@pytest.mark.parametrize(
    ("message", "recipient"),
    [
        ({"text": "x" * 2000}, None),
        ({"text": ""}, None),
        ({"text": "hi", "quick_replies": [{"content_type": "text", "title": "A"}]}, None),
        ({"text": "hi"}, "999"),
    ],
)
def test_malformed_sends_are_error_100(
    graph_api: FakeGraphApi,
    graph_page: Page,
    graph_visitor: Person,
    message: Any,
    recipient: str | None,
) -> None:
    status, answer = send(graph_api, graph_page, recipient or graph_visitor.psid, message=message)
    assert status == 400
    assert answer["error"]["code"] == 100


def test_a_send_is_stored_recorded_and_echoed(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person
) -> None:
    replies = [{"content_type": "text", "title": "Yes", "payload": "YES"}]
    message = {"text": "Ready?", "metadata": "cs:out:7", "quick_replies": replies}
    _, answer = send(graph_api, graph_page, graph_visitor.psid, message=message)
    [sent] = graph_api.sent
    assert (sent.message_id, sent.messaging_type, sent.metadata) == (
        answer["message_id"],
        "RESPONSE",
        "cs:out:7",
    )
    assert sent.quick_replies == replies
    conversation = graph_api.conversation_with(graph_visitor)
    assert conversation.messages[-1].sender == graph_page.id
    _hello, echo = graph_api.take_webhooks()
    event = echo.payload["entry"][0]["messaging"][0]
    assert event["sender"] == {"id": graph_page.id}
    assert event["recipient"] == {"id": graph_visitor.psid}
    assert event["message"]["is_echo"] is True
    assert event["message"]["app_id"] == int(graph_api.app_id)
    assert event["message"]["metadata"] == "cs:out:7"
    assert event["message"]["mid"] == answer["message_id"]


def test_a_send_as_a_form_with_json_values(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person
) -> None:
    form = {
        "recipient": json.dumps({"id": graph_visitor.psid}),
        "messaging_type": "RESPONSE",
        "message": json.dumps({"text": "hi"}),
        "access_token": graph_page.token,
    }
    status, _, _ = call(graph_api, "POST", "/v24.0/me/messages", form=form)
    assert status == 200
    assert graph_api.sent[0].recipient_id == graph_visitor.psid


def list_all(fake: FakeGraphApi, graph_page: Page, limit: int = 100) -> list[dict[str, Any]]:
    """Every conversation, following `paging.next` as given."""
    query = {"platform": "messenger", "fields": "updated_time", "limit": limit}
    status, answer, _ = call(
        fake, "GET", f"/v24.0/{graph_page.id}/conversations", graph_page.token, query=query
    )
    found = []
    while True:
        assert status == 200
        found += answer["data"]
        if "next" not in answer["paging"]:
            return found
        status, answer, _ = call(fake, "GET", answer["paging"]["next"])


def test_paging_reaches_the_end_through_short_pages(
    graph_api: FakeGraphApi, graph_page: Page
) -> None:
    graph_api.seed_conversations(graph_page.id, 1050)
    graph_api.short_pages = 3
    conversations = list_all(graph_api, graph_page)
    assert len({c["id"] for c in conversations}) == 1050
    times = [c["updated_time"] for c in conversations]
    assert times == sorted(times, reverse=True)
    assert [r.path for r in graph_api.requests].count(f"/v24.0/{graph_page.id}/conversations") > 11


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"platform": "messenger", "since": "1700000000"},
        {"platform": "messenger", "fields": "x"},
    ],
)
def test_conversations_refuse_bad_parameters(
    graph_api: FakeGraphApi, graph_page: Page, query: dict[str, str]
) -> None:
    status, answer, _ = call(
        graph_api, "GET", f"/v24.0/{graph_page.id}/conversations", graph_page.token, query=query
    )
    assert (status, answer["error"]["code"]) == (400, 100)


def test_conversations_for_one_person_with_nested_messages(
    graph_api: FakeGraphApi, graph_page: Page
) -> None:
    [_, thread] = graph_api.seed_conversations(graph_page.id, 2, messages_each=25)
    query = {
        "platform": "messenger",
        "user_id": thread.psid,
        "fields": "participants,messages.limit(25){id,created_time,from,message}",
    }
    _, answer, _ = call(
        graph_api, "GET", f"/v24.0/{graph_page.id}/conversations", graph_page.token, query=query
    )
    [conversation] = answer["data"]
    assert [p["id"] for p in conversation["participants"]["data"]] == [thread.psid, graph_page.id]
    messages = conversation["messages"]["data"]
    assert messages[0]["message"] == "message 25 of thread 2"
    assert messages[0]["from"]["id"] == thread.psid
    assert "message" in messages[19]
    assert set(messages[20]) == {"id", "created_time"}  # past the 20 newest: no details


def test_only_the_20_newest_messages_have_details(
    graph_api: FakeGraphApi, graph_page: Page
) -> None:
    [thread] = graph_api.seed_conversations(graph_page.id, 1, messages_each=21)
    oldest, newest = thread.messages[0], thread.messages[-1]
    query = {"fields": "id,message,from"}
    status, answer, _ = call(
        graph_api, "GET", f"/v24.0/{newest.mid}", graph_page.token, query=query
    )
    assert (status, answer["message"]) == (200, newest.text)
    status, answer, _ = call(
        graph_api, "GET", f"/v24.0/{oldest.mid}", graph_page.token, query=query
    )
    assert (status, answer["error"]["code"]) == (400, 100)
    assert "deleted" in answer["error"]["message"]
    _, answer, _ = call(
        graph_api, "GET", f"/v24.0/{thread.id}", graph_page.token, query={"fields": "messages"}
    )
    assert answer["messages"]["data"][0]["id"] == newest.mid


@pytest.mark.parametrize(
    ("access", "status", "expected"),
    [
        ("full", 200, {"first_name": "Ana", "last_name": "Silva", "name": "Ana Silva"}),
        ("none", 200, {}),
        ("phone_only", 400, {"code": 100, "error_subcode": 2018218}),
    ],
)
def test_profiles(
    graph_api: FakeGraphApi, graph_page: Page, access: Any, status: int, expected: dict[str, Any]
) -> None:
    visitor = graph_api.add_person(graph_page.id, profile=access)
    query = {"fields": "first_name,last_name,name"}
    got, answer, _ = call(graph_api, "GET", f"/v24.0/{visitor.psid}", graph_page.token, query=query)
    assert got == status
    assert expected.items() <= answer.get("error", answer).items()


def test_subscribed_apps(graph_api: FakeGraphApi, graph_page: Page) -> None:
    path = f"/v24.0/{graph_page.id}/subscribed_apps"
    query = {"subscribed_fields": "messages,message_echoes"}
    assert call(graph_api, "POST", path, graph_page.token, query=query)[1] == {"success": True}
    [app] = call(graph_api, "GET", path, graph_page.token)[1]["data"]
    assert (app["id"], app["subscribed_fields"]) == (
        graph_api.app_id,
        ["messages", "message_echoes"],
    )


@pytest.mark.parametrize(
    ("code", "subcode"),
    [
        (4, None),
        (17, None),
        (32, None),
        (613, None),
        (2, None),
        (551, None),
        (10, 1893063),
        (190, None),
    ],
)
def test_injected_errors_answer_once(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person, code: int, subcode: int | None
) -> None:
    graph_api.fail_next("messages", code, subcode=subcode)
    assert error_of(send(graph_api, graph_page, graph_visitor.psid)[1]) == (code, subcode)
    assert send(graph_api, graph_page, graph_visitor.psid)[0] == 200


def test_a_messenger_throttle_says_when_access_returns(
    graph_api: FakeGraphApi, graph_page: Page
) -> None:
    graph_api.fail_next("conversations", 80006, regain_minutes=7)
    query = {"platform": "messenger"}
    _, answer, headers = call(
        graph_api, "GET", f"/v24.0/{graph_page.id}/conversations", graph_page.token, query=query
    )
    assert answer["error"]["code"] == 80006
    usage = json.loads(headers["X-Business-Use-Case-Usage"])[graph_page.id][0]
    assert usage["estimated_time_to_regain_access"] == 7


def test_a_plain_server_error(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.fail_next("any", http_status=503)
    status, answer = send(graph_api, graph_page, graph_visitor.psid)
    assert status == 503
    assert b"Service Unavailable" in answer


def test_a_timeout_carries_the_send_out_but_answers_too_late(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.fail_next("messages", timeout=True)
    body = {
        "recipient": {"id": graph_visitor.psid},
        "messaging_type": "RESPONSE",
        "message": {"text": "?"},
    }
    request = urllib.request.Request(
        f"{graph_api.url}/v24.0/{graph_page.id}/messages?access_token={graph_page.token}",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(request, timeout=0.2)
    assert [sent.text for sent in graph_api.sent] == ["?"]


def test_rate_limits_follow_the_fake_clock(
    graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person
) -> None:
    graph_api.limit_rate("conversations", 2)
    graph_api.limit_rate("messages", 1)
    path, query = f"/v24.0/{graph_page.id}/conversations", {"platform": "messenger"}
    answers = [call(graph_api, "GET", path, graph_page.token, query=query) for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 400]
    assert answers[2][1]["error"]["code"] == 80006
    sends = [send(graph_api, graph_page, graph_visitor.psid) for _ in range(2)]
    assert [status for status, _ in sends] == [200, 400]
    assert sends[1][1]["error"]["code"] == 613
    graph_api.advance(1)
    assert call(graph_api, "GET", path, graph_page.token, query=query)[0] == 200
    assert send(graph_api, graph_page, graph_visitor.psid)[0] == 200


def test_the_before_cursor_pages_back(graph_api: FakeGraphApi, graph_page: Page) -> None:
    graph_api.seed_conversations(graph_page.id, 5)
    path, query = f"/v24.0/{graph_page.id}/conversations", {"platform": "messenger", "limit": 2}
    _, first, _ = call(graph_api, "GET", path, graph_page.token, query=query)
    after = {"after": first["paging"]["cursors"]["after"]}
    _, second, _ = call(graph_api, "GET", path, graph_page.token, query=query | after)
    before = {"before": second["paging"]["cursors"]["before"]}
    _, back, _ = call(graph_api, "GET", path, graph_page.token, query=query | before)
    assert back["data"] == first["data"] != second["data"]


def test_the_control_api(graph_api: FakeGraphApi) -> None:
    _, graph_page, _ = call(graph_api, "POST", "/_fake/page", body={"name": "Books"})
    _, threads, _ = call(
        graph_api, "POST", "/_fake/seed", body={"page_id": graph_page["id"], "n": 3}
    )
    assert len(threads) == 3
    call(graph_api, "POST", "/_fake/advance", body={"seconds": 60})
    _, message, _ = call(
        graph_api, "POST", "/_fake/visitor_message", body={"page_id": graph_page["id"]}
    )
    assert message["created"] == graph_api.clock
    status, deliveries, _ = call(graph_api, "POST", "/_fake/deliver", body={})
    assert status == 400  # no webhook_url: the error says so
    assert "webhook_url" in deliveries["error"]
    assert call(graph_api, "GET", "/_fake/sent")[1] == []
