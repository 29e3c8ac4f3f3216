"""A fake of Meta's Graph API (Messenger) on a real loopback port, for tests.

    fake = FakeGraphApi().start()          # or the `graph_api` fixture
    page = fake.add_page()
    message = fake.visitor_message(page.id, text="hi")   # a new person writes
    GraphClient(fake.url).send_message(page.id, page.token, message.sender, "hello")
    fake.advance(25 * 3600)                 # the 24-hour window closes
    fake.deliver_webhooks()                 # echoes and scripted events POSTed to webhook_url

The state and webhook helpers come from `graph_state` and `graph_webhooks`; the HTTP routes
from `graph_app`. This module adds the server, faults, rate limits and the records.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Literal, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.fakes.graph_app import RecordedRequest, make_app
from tests.fakes.graph_send import RETIRED_TAGS
from tests.fakes.graph_state import GraphFault, Message
from tests.fakes.graph_webhooks import GraphWebhooks

Kind = Literal[
    "messages", "conversations", "subscribed_apps", "conversation", "message", "profile", "any"
]
THROTTLE_CODES = {"conversations": 80006}  # other calls over their rate get 613
MESSAGES = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    190: "Error validating access token: Session has expired.",
    551: "(#551) This person isn't available right now.",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80006: "(#80006) There have been too many messenger api calls to this Page account.",
}
PAGE_RESTRICTED = "(#10) This Page is temporarily restricted from sending messages."


@dataclass(frozen=True)
class SentMessage:
    """A message the Send API accepted, with how it was sent."""

    page_id: str
    recipient_id: str
    message_id: str
    text: str | None
    messaging_type: str
    tag: str | None
    metadata: str | None
    quick_replies: list[dict[str, Any]]


@dataclass
class Fault:
    """An error `fail_next` injected; it answers the next `times` calls of its kind."""

    kind: Kind
    code: int | None
    subcode: int | None
    http_status: int | None
    message: str | None
    regain_minutes: int | None
    timeout: bool
    times: int

    def error(self, page_id: str) -> GraphFault:
        """The Graph error (code None: a plain 5xx page, as from a proxy)."""
        if self.code is None:
            return GraphFault(0, "", http_status=self.http_status or 500)
        message = self.message or MESSAGES.get(self.code, f"(#{self.code}) Injected error")
        if (self.code, self.subcode) == (10, 1893063):
            message = self.message or PAGE_RESTRICTED
        headers = throttle_header(page_id, self.regain_minutes) if self.regain_minutes else None
        status = self.http_status or 400  # Graph sends throttles as 400 too, not 429
        return GraphFault(
            self.code, message, subcode=self.subcode, http_status=status, headers=headers
        )


def throttle_header(page_id: str, regain_minutes: int) -> dict[str, str]:
    """A Business Use Case usage header saying the Page is over its limit."""
    usage = {
        "type": "messenger",
        "call_count": 100,
        "total_cputime": 100,
        "total_time": 100,
        "estimated_time_to_regain_access": regain_minutes,
    }
    return {"X-Business-Use-Case-Usage": json.dumps({page_id: [usage]})}


class QuietHandler(WSGIRequestHandler):
    """werkzeug's request handler without its access log on stderr."""

    def log(self, *_args: Any) -> None:
        """Say nothing: the fake records requests in `requests`."""


class FakeGraphApi(GraphWebhooks):
    """Meta's Graph API for one app: state, webhooks, faults, served on 127.0.0.1."""

    def __init__(self, version: str = "v24.0") -> None:
        super().__init__()
        self.version = version  # used in `paging.next` URLs; any vNN.0 is served
        self.retired_tags = set(RETIRED_TAGS)  # empty it to model a platform that takes them
        self.short_pages = 0  # n > 0: every nth conversations page comes back short
        self.hold_seconds = 2.0  # how long a `timeout` fault keeps the client waiting
        self.usage = {
            "call_count": 1,
            "total_cputime": 1,
            "total_time": 1,
            "estimated_time_to_regain_access": 0,
        }
        self.app_usage: dict[str, int] | None = None  # sent as X-App-Usage when set
        self.rate_limits: dict[str, int] = {}
        self.requests: list[RecordedRequest] = []
        self.sent: list[SentMessage] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self._calls: dict[tuple[str, str], list[float]] = {}
        self._listings = 0
        self._release = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL, for `GraphClient(base_url=...)`."""
        if self._server is None:
            raise RuntimeError("the fake Graph API is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        """Serve on a free loopback port in a background thread."""
        self._server = make_server(
            "127.0.0.1", 0, make_app(self), threaded=True, request_handler=QuietHandler
        )
        # a short poll interval: `stop` waits for one, and every test stops a server
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-graph-api"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release held requests, stop serving and close the port."""
        self._release.set()
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
        self._server = self._thread = None

    def fail_next(
        self,
        kind: Kind,
        code: int | None = None,
        *,
        subcode: int | None = None,
        http_status: int | None = None,
        times: int = 1,
        message: str | None = None,
        regain_minutes: int | None = None,
        timeout: bool = False,
    ) -> None:
        """Answer the next `times` calls of a kind with an error; `code=None` is a plain 5xx.

        80006 carries a usage header with a minute to regain access unless told otherwise;
        `timeout=True` carries the call out but holds the answer for `hold_seconds`.
        """
        if code == 80006 and regain_minutes is None:
            regain_minutes = 1
        fault = Fault(kind, code, subcode, http_status, message, regain_minutes, timeout, times)
        self.faults.append(fault)

    def limit_rate(self, kind: Kind, per_second: int) -> None:
        """Allow `per_second` calls of a kind per Page per second of the fake clock."""
        self.rate_limits[kind] = per_second

    def check_limits(self, kind: str, page_id: str) -> bool:
        """Raise an injected fault or a rate limit's error; True if the call should time out."""
        fault = next((f for f in self.faults if f.kind in (kind, "any")), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            if fault.timeout:
                return True
            raise fault.error(page_id)
        self.check_rate(kind, page_id)
        return False

    def check_rate(self, kind: str, page_id: str) -> None:
        """Count the call against its kind's rate limit, if there is one."""
        limit = self.rate_limits.get(kind)
        if limit is None:
            return
        recent = [at for at in self._calls.get((kind, page_id), []) if at > self.clock - 1.0]
        if len(recent) >= limit:
            code = THROTTLE_CODES.get(kind, 613)
            raise GraphFault(code, MESSAGES[code], headers=throttle_header(page_id, 1))
        self._calls[kind, page_id] = [*recent, self.clock]

    def next_page_is_short(self) -> bool:
        """Whether this conversations page is one of the short ones `short_pages` asks for."""
        self._listings += 1
        return self.short_pages > 0 and self._listings % self.short_pages == 0

    def hold(self) -> None:
        """Keep a request waiting past the client's timeout (ended early by `stop`)."""
        self._release.wait(self.hold_seconds)

    def usage_headers(self, page_id: str) -> dict[str, str]:
        """The usage headers Graph adds to a Page token's answers."""
        headers = {
            "X-Business-Use-Case-Usage": json.dumps(
                {page_id: [{"type": "messenger", **self.usage}]}
            )
        }
        if self.app_usage is not None:
            headers["X-App-Usage"] = json.dumps(self.app_usage)
        return headers

    def record_send(self, page_id: str, body: dict[str, Any], message: Message) -> None:
        """Keep an accepted send for assertions."""
        sent = SentMessage(
            page_id,
            message.recipient,
            message.mid,
            message.text,
            body["messaging_type"],
            body.get("tag"),
            message.metadata,
            message.quick_replies,
        )
        self.sent.append(sent)
