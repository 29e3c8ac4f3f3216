"""The fake's webhooks: queued until delivered, signed as Meta signs, in any order, twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_state import Page, Person


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint: records POSTs, answers the handshake, fails when told to."""

    received: list[tuple[bytes, dict[str, str]]]
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, dict(self.headers)))
        self.send_response(self.status)
        self.end_headers()

    def do_GET(self) -> None:
        query = {key: values[0] for key, values in parse_qs(urlparse(self.path).query).items()}
        ok = query.get("hub.verify_token") == "fake-verify-token"
        self.send_response(200 if ok else 403)
        self.end_headers()
        self.wfile.write(query["hub.challenge"].encode() if ok else b"")

    def log_message(self, *_args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver(graph_api: FakeGraphApi) -> Iterator[type[Receiver]]:
    """A real webhook receiver on loopback, set as the fake's webhook_url."""
    handler = type("TestReceiver", (Receiver,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    graph_api.webhook_url = f"http://127.0.0.1:{server.server_port}/webhook"
    try:
        yield handler
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_webhooks_are_signed_over_metas_escaped_body(
    graph_api: FakeGraphApi, graph_page: Page, receiver: type[Receiver]
) -> None:
    graph_api.visitor_message(graph_page.id, text="Größe? 1/2")
    [delivery] = graph_api.deliver_webhooks()
    assert delivery.status == 200
    [(body, headers)] = receiver.received
    assert b'"text":"Gr\\u00f6\\u00dfe? 1\\/2"' in body
    expected = hmac.new(b"fake-app-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
    reserialised = json.dumps(json.loads(body)).encode()
    assert graph_api.signature(reserialised) != headers["X-Hub-Signature-256"]
    assert json.loads(body)["object"] == "page"


def test_webhooks_wait_for_delivery_and_failed_ones_stay_queued(
    graph_api: FakeGraphApi, graph_page: Page, receiver: type[Receiver]
) -> None:
    graph_api.visitor_message(graph_page.id, text="one")
    assert receiver.received == []
    receiver.status = 500
    assert [d.status for d in graph_api.deliver_webhooks()] == [500]
    receiver.status = 200
    assert [d.status for d in graph_api.deliver_webhooks()] == [200]
    assert graph_api.queued == []


def test_webhooks_out_of_order_and_twice(graph_api: FakeGraphApi, graph_page: Page) -> None:
    texts = ["one", "two", "three"]
    for text in texts:
        graph_api.visitor_message(graph_page.id, text=text)
    seen: list[str] = []

    def post(body: bytes, _headers: Any) -> int:
        seen.append(json.loads(body)["entry"][0]["messaging"][0]["message"]["text"])
        return 200

    graph_api.deliver_webhooks(order="reversed", times=2, post=post)
    assert seen == ["three", "three", "two", "two", "one", "one"]


def test_scripted_events(graph_api: FakeGraphApi, graph_page: Page, graph_visitor: Person) -> None:
    graph_api.take_webhooks()  # the visitor's "hello"
    graph_api.visitor_message(
        graph_page.id, graph_visitor.psid, None, attachments=["image", "sticker"]
    )
    graph_api.visitor_message(graph_page.id, graph_visitor.psid, "Yes", quick_reply="YES")
    graph_api.postback(graph_page.id, graph_visitor.psid, "Start", "GET_STARTED")
    graph_api.delivery(graph_page.id, graph_visitor.psid, ["m_1"])
    graph_api.read(graph_page.id, graph_visitor.psid, standby=True)
    graph_api.page_reply(graph_page.id, graph_visitor.psid, "from the inbox")
    graph_api.page_reply(graph_page.id, graph_visitor.psid, "from a post", app_id=None)
    entries = [request.payload["entry"][0] for request in graph_api.take_webhooks()]
    events = [entry.get("messaging", entry.get("standby"))[0] for entry in entries]
    assert [a["type"] for a in events[0]["message"]["attachments"]] == ["image", "sticker"]
    assert events[1]["message"]["quick_reply"] == {"payload": "YES"}
    assert events[2]["postback"]["payload"] == "GET_STARTED"
    assert events[3]["delivery"]["mids"] == ["m_1"]
    assert "standby" in entries[4]
    assert events[5]["message"]["app_id"] == 263902037430900
    assert "app_id" not in events[6]["message"]
    assert graph_api.conversation_with(graph_visitor).messages[-1].text == "from a post"


def test_the_verify_handshake(graph_api: FakeGraphApi, receiver: type[Receiver]) -> None:
    assert graph_api.verify_webhook(challenge="42") == (200, "42")
    assert graph_api.verify_webhook(verify_token="wrong")[0] == 403
