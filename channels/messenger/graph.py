"""Parley's client for Meta's Graph API: Messenger sends, profiles, conversations, webhooks.

Each call makes one attempt. A failure raises `GraphError`, which says what kind of failure it
was (`reason`) and, for throttling, how long to wait (`retry_after`); the callers run in
background workers and retry on their own clock, so nothing here sleeps. The Page token travels
in the Authorization header only: never in a URL, a log line or an error message.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import quote, urlencode

from channels.errors import ChannelError

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com"
# Pinned on purpose: Meta changes behaviour between versions, so moving to a new one is a
# change of its own, made after reading Meta's changelog, not something that happens to us.
GRAPH_API_VERSION = "v24.0"
SUBSCRIBED_FIELDS = (
    "messages",
    "messaging_postbacks",
    "message_echoes",
    "message_deliveries",
    "message_reads",
    "standby",
)
PROFILE_FIELDS = "first_name,last_name,name,profile_pic"
MESSAGE_FIELDS = "id,created_time,from,to,message"
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80006})
UNKNOWN_ERROR = 1
TRANSIENT_CODES = frozenset({UNKNOWN_ERROR, 2})
WINDOW_CLOSED = frozenset({(10, 2018278), (551, 1545041), (10, 2534022)})
PAGE_RESTRICTED = (10, 1893063)  # the Page may not send for now (changelog, 2026-06-25)
POLICY_BLOCK = 368  # blocked for a policy violation
NO_PROFILE = 2018218  # subcode of "No profile available" (phone-only accounts)


class GraphError(ChannelError):
    """A Graph call that failed; `reason` is a short stable code for Parley's API."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
        delivered_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after  # seconds to wait before trying again, when known
        self.delivered_unknown = delivered_unknown  # the request may have been carried out

    def __str__(self) -> str:
        facts = [f"code {self.code}/{self.subcode}" if self.subcode else f"code {self.code}"]
        facts += [f"HTTP {self.http_status}"] if self.http_status else []
        facts += [f"fbtrace {self.fbtrace_id}"] if self.fbtrace_id else []
        return f"{self.message} ({', '.join(facts)})" if self.code else self.message

    @property
    def throttled(self) -> bool:
        """Meta's rate limits: the app, user, Page or Messenger usage is over its share (an
        edge's bare HTTP 429 too)."""
        return self.code in THROTTLE_CODES or (self.code is None and self.http_status == 429)

    @property
    def transient(self) -> bool:
        """Worth trying again as it was: Graph's temporary errors and outages."""
        return self.reason == "unavailable"

    @property
    def window_closed(self) -> bool:
        """Sent outside the window in which the Page may message this person."""
        return (self.code, self.subcode) in WINDOW_CLOSED

    @property
    def unavailable(self) -> bool:
        """Graph's 551: the person cannot be messaged now."""
        return self.code == 551

    @property
    def token_expired(self) -> bool:
        """The Page token is invalid or expired: someone must reconnect the Page."""
        return self.code == 190

    @property
    def reason(self) -> str:
        """window_closed, person_unavailable, token_expired, throttled, page_restricted,
        unavailable (network, 5xx, timeout, Graph's 1 and 2) or invalid (anything else)."""
        if self.window_closed:
            return "window_closed"
        if self.unavailable:
            return "person_unavailable"
        if self.token_expired:
            return "token_expired"
        if self.throttled:
            return "throttled"
        if (self.code, self.subcode) == PAGE_RESTRICTED or self.code == POLICY_BLOCK:
            return "page_restricted"
        if self.code is None or self.code in TRANSIENT_CODES or (self.http_status or 0) >= 500:
            return "unavailable"
        return "invalid"


@dataclass(frozen=True)
class Sent:
    """A message Graph accepted."""

    message_id: str
    recipient_id: str


@dataclass(frozen=True)
class ConversationPage:
    """One page of a Page's conversations, newest first; `after` is None at the end."""

    conversations: list[dict[str, Any]]
    after: str | None


@dataclass(frozen=True)
class QuickReply:
    """A button under a message; tapping it sends `title` as text with `payload`."""

    title: str
    payload: str


@dataclass(frozen=True)
class Usage:
    """How much of its rate-limit share the app or Page has used (percent), and the wait."""

    call_count: int
    total_cputime: int
    total_time: int
    estimated_time_to_regain_access: int  # minutes, as Graph gives it

    @property
    def regain_seconds(self) -> float:
        """The wait before calls are accepted again, in seconds."""
        return self.estimated_time_to_regain_access * 60.0


def parse_usage(headers: Message) -> Usage | None:
    """The highest figures of the usage headers (Business Use Case, App, Page), if any."""
    entries = []
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage"):
        entries += usage_entries(headers.get(name))
    if not entries:
        return None
    fields = ("call_count", "total_cputime", "total_time", "estimated_time_to_regain_access")
    return Usage(*(max(as_int(entry.get(name)) for entry in entries) for name in fields))


def usage_entries(header: str | None) -> list[dict[str, Any]]:
    """The figures of one header: App usage is one object, BUC usage lists per Page."""
    try:
        data = json.loads(header) if header else None
    except ValueError:
        return []  # a garbled header must not fail a call that succeeded
    if not isinstance(data, dict):
        return []
    if "call_count" in data:
        return [data]
    lists = [value for value in data.values() if isinstance(value, list)]
    return [entry for entries in lists for entry in entries if isinstance(entry, dict)]


def as_int(value: object) -> int:
    """A usage figure as an int; anything unreadable counts as 0."""
    if isinstance(value, int | float | str):
        try:
            return int(value)
        except ValueError:
            pass
    return 0


def error_from(status: int, payload: Any, usage: Usage | None, *, posted: bool) -> GraphError:
    """A GraphError from an error answer: Graph's error object, or an outage."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        # a proxy's or Meta's edge's 5xx may come after the request was carried out
        return GraphError(
            f"Graph API answered HTTP {status} without a Graph error",
            http_status=status,
            delivered_unknown=posted and status >= 500,
        )
    code = as_int(error.get("code")) or None
    retry_after = None  # without a usage header's word, the caller's backoff decides
    if usage is not None and usage.estimated_time_to_regain_access > 0:
        retry_after = usage.regain_seconds
    return GraphError(
        str(error.get("message") or "Graph API error"),
        code=code,
        subcode=as_int(error.get("error_subcode")) or None,
        http_status=status,
        fbtrace_id=error.get("fbtrace_id"),
        retry_after=retry_after,
        # Meta: code 1 "can arrive although sends succeeded"
        delivered_unknown=posted and code == UNKNOWN_ERROR,
    )


class GraphClient:
    """Calls Graph for Parley; one attempt per call, no sleeping, no token in errors."""

    def __init__(
        self,
        base_url: str = DEFAULT_GRAPH_API_URL,
        version: str = GRAPH_API_VERSION,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.timeout = timeout
        self.last_usage: Usage | None = None  # from the last answer's usage headers

    def send_message(
        self,
        page_id: str,
        token: str,
        psid: str,
        text: str,
        *,
        quick_replies: Sequence[QuickReply] = (),
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
        metadata: str | None = None,
    ) -> Sent:
        """Send text (and quick replies) to a person; `metadata` comes back in the echo."""
        message: dict[str, Any] = {"text": text}
        if quick_replies:
            message["quick_replies"] = [
                {"content_type": "text", "title": reply.title, "payload": reply.payload}
                for reply in quick_replies
            ]
        if metadata is not None:
            message["metadata"] = metadata
        body: dict[str, Any] = {
            "recipient": {"id": psid},
            "messaging_type": messaging_type,
            "message": message,
        }
        if tag is not None:
            body["tag"] = tag
        answer = self.call("POST", f"{page_id}/messages", token, body=body)
        if not answer.get("message_id"):
            raise GraphError("Graph API accepted a send without a message_id", http_status=200)
        return Sent(str(answer["message_id"]), str(answer.get("recipient_id") or psid))

    def profile(self, psid: str, token: str) -> dict[str, str]:
        """A person's name and picture; {} when Meta shows none (no access, phone-only account)."""
        try:
            answer = self.call("GET", psid, token, query={"fields": PROFILE_FIELDS})
        except GraphError as error:
            if error.subcode == NO_PROFILE:
                return {}
            raise
        found = {key: str(value) for key, value in answer.items() if key != "id" and value}
        name = found.get("name") or " ".join(
            part for part in (found.get("first_name"), found.get("last_name")) if part
        )
        return found | {"name": name} if name else found

    def conversations(
        self,
        page_id: str,
        token: str,
        *,
        after: str | None = None,
        limit: int = 100,
        messages: int = 20,
    ) -> ConversationPage:
        """A page of Messenger conversations, newest first, each with its newest messages.

        Follow `after` until it is None: a short page does not mean the end.
        """
        fields = "participants,updated_time"
        if messages:
            fields += f",messages.limit({messages}){{{MESSAGE_FIELDS}}}"
        query = {"platform": "messenger", "fields": fields, "limit": str(limit)}
        if after is not None:
            query["after"] = after
        answer = self.call("GET", f"{page_id}/conversations", token, query=query)
        paging = answer.get("paging") or {}
        cursor = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
        return ConversationPage(list(answer.get("data") or []), cursor)

    def subscribe(
        self, page_id: str, token: str, fields: Sequence[str] = SUBSCRIBED_FIELDS
    ) -> None:
        """Subscribe the app to the Page's Messenger webhooks (needed again after Meta drops it)."""
        query = {"subscribed_fields": ",".join(fields)}
        answer = self.call("POST", f"{page_id}/subscribed_apps", token, query=query)
        if answer.get("success") is not True:
            raise GraphError("Graph API did not confirm the subscription", http_status=200)

    def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One Graph request; the JSON object it answers, or GraphError."""
        if not token.isascii() or not token.isprintable():
            # an HTTP header cannot carry it; Meta's tokens are plain ASCII
            raise GraphError("the access token is not a Graph API token", code=190)
        url = f"{self.base_url}/{self.version}/{quote(path)}"
        if query:
            url += f"?{urlencode(query)}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data, headers, method=method)
        status, answer = self.exchange(request)
        if status >= 400 or not isinstance(answer, dict) or "error" in answer:
            raise error_from(status, answer, self.last_usage, posted=method == "POST")
        return answer

    def exchange(self, request: urllib.request.Request) -> tuple[int, Any]:
        """Send a request: its status and JSON (None if not JSON); outages are GraphErrors."""
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            with error:
                status, headers, raw = error.code, error.headers, error.read()
        except urllib.error.URLError as error:
            # raised while connecting or sending: Graph cannot have acted on the request
            raise GraphError(f"Graph API unreachable: {error.reason}") from error
        except (TimeoutError, ConnectionError, http.client.HTTPException) as error:
            # the request went out; a POST may have been carried out without our hearing
            raise GraphError(
                f"Graph API gave no full answer within {self.timeout:g} s ({type(error).__name__})",
                delivered_unknown=request.get_method() == "POST",
            ) from error
        self.last_usage = parse_usage(headers)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, None
