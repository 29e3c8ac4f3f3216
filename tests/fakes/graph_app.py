"""The fake's HTTP side: Graph's routes and error shape, and the `/_fake/*` control API.

A werkzeug WSGI app over a `FakeGraphApi`: every request is recorded, the token checked,
injected faults and rate limits applied, then the route's handler answers from the state.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from tests.fakes.graph_read import (
    conversation_details,
    conversation_list,
    message_details,
    profile,
)
from tests.fakes.graph_send import accept_send, send_body
from tests.fakes.graph_state import GraphFault, Page, invalid, missing_object

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from tests.fakes.graph_api import FakeGraphApi

VERSION = re.compile(r"v\d+\.0")
Handler = Callable[["FakeGraphApi", Page, str, Mapping[str, Any]], Any]


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake received it: params merges the query and a form body."""

    method: str
    path: str
    params: dict[str, str]
    json: Any
    headers: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Route:
    """A Graph call: what `fail_next` and `limit_rate` call it, and who answers."""

    kind: str
    handler: Handler


def send(fake: FakeGraphApi, page: Page, _node: str, params: Mapping[str, Any]) -> Any:
    """`POST /{page}/messages`: checked, stored, recorded, and echoed by webhook."""
    body = send_body(params)
    message = accept_send(fake, page, body, fake.retired_tags)
    fake.record_send(page.id, body, message)
    fake.echo(message, fake.app_id)
    return {"recipient_id": message.recipient, "message_id": message.mid}


def conversations(fake: FakeGraphApi, page: Page, _node: str, params: Mapping[str, Any]) -> Any:
    """`GET /{page}/conversations`, some pages cut short when the test asks for it."""
    url = f"{fake.url}/{fake.version}/{page.id}/conversations"
    params = {**params, "access_token": page.token}  # Graph's `next` links carry the token
    return conversation_list(fake, page.id, params, url, short=fake.next_page_is_short())


def subscribe(fake: FakeGraphApi, page: Page, _node: str, params: Mapping[str, Any]) -> Any:
    """`POST /{page}/subscribed_apps`: the app now gets these webhook fields for the Page."""
    fields = [name for name in str(params.get("subscribed_fields", "")).split(",") if name]
    if not fields:
        raise invalid("param subscribed_fields must be non-empty")
    page.subscribed_fields = fields
    return {"success": True}


def subscriptions(fake: FakeGraphApi, page: Page, _node: str, _params: Mapping[str, Any]) -> Any:
    """`GET /{page}/subscribed_apps`: the app and its fields, if subscribed."""
    if not page.subscribed_fields:
        return {"data": []}
    app = {"id": fake.app_id, "name": "Parley", "subscribed_fields": page.subscribed_fields}
    return {"data": [app]}


def read_node(fake: FakeGraphApi, page: Page, node: str, params: Mapping[str, Any]) -> Any:
    """`GET /{id}`: a conversation, a message or a person, if the Page may see it."""
    if node in fake.conversations and fake.conversations[node].page_id == page.id:
        return conversation_details(fake, node, params)
    if node in fake.people and fake.people[node].page_id == page.id:
        return profile(fake, node, params)
    conversation, _ = fake.message(node)
    if conversation.page_id != page.id:
        raise missing_object(node)
    return message_details(fake, node, params)


EDGES = {
    ("POST", "messages"): Route("messages", send),
    ("GET", "conversations"): Route("conversations", conversations),
    ("POST", "subscribed_apps"): Route("subscribed_apps", subscribe),
    ("GET", "subscribed_apps"): Route("subscribed_apps", subscriptions),
}


def node_kind(node: str) -> str:
    """What `GET /{id}` reads: conversation, message or profile."""
    if node.startswith("t_"):
        return "conversation"
    return "message" if node.startswith("m_") else "profile"


def make_app(fake: FakeGraphApi) -> WSGIApplication:
    """The WSGI app serving a fake."""

    @Request.application
    def app(request: Request) -> Response:
        params = request.args.to_dict() | request.form.to_dict()
        body = request.get_json(silent=True) if request.is_json else None
        headers = dict(request.headers.items())
        fake.requests.append(RecordedRequest(request.method, request.path, params, body, headers))
        parts = request.path.strip("/").split("/")
        if parts[0] == "_fake":
            return control(fake, parts[1:], body if isinstance(body, dict) else params)
        token = params.get("access_token") or bearer(request.headers.get("Authorization", ""))
        args = params | body if isinstance(body, dict) else params
        return graph_call(fake, request.method, parts, token, args)

    return app


def bearer(header: str) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def graph_call(
    fake: FakeGraphApi, method: str, parts: list[str], token: str | None, params: Mapping[str, Any]
) -> Response:
    """Answer a Graph request, or its error as Graph shapes it."""
    page_id = None
    try:
        page, node, route = resolve(fake, method, parts, token)
        page_id = page.id
        times_out = fake.check_limits(route.kind, page.id)
        try:
            with fake.lock:
                payload = route.handler(fake, page, node, params)
        finally:
            if times_out:
                fake.hold()  # the request was carried out; the answer never comes in time
        return json_response(payload, fake.usage_headers(page.id))
    except GraphFault as fault:
        return error_response(fake, fault, page_id)


def resolve(
    fake: FakeGraphApi, method: str, parts: list[str], token: str | None
) -> tuple[Page, str, Route]:
    """The token's Page, the node id and the route a path names."""
    if len(parts) not in (2, 3) or not VERSION.fullmatch(parts[0]):
        raise invalid(f"Unknown path components: /{'/'.join(parts)}")
    page = fake.page_for_token(token)
    if page is None:
        raise GraphFault(190, "Invalid OAuth access token - Cannot parse access token")
    node = page.id if parts[1] == "me" else parts[1]
    if len(parts) == 2 and method == "GET":
        return page, node, Route(node_kind(node), read_node)
    route = EDGES.get((method, parts[2])) if len(parts) == 3 else None
    if route is None:
        raise invalid(f"Unsupported {method.lower()} request to /{'/'.join(parts[1:])}")
    if node != page.id:
        raise missing_object(node)
    return page, node, route


def json_response(payload: Any, headers: Mapping[str, str], status: int = 200) -> Response:
    """A JSON answer with the usage headers Graph adds."""
    return Response(json.dumps(payload), status, headers=dict(headers), mimetype="application/json")


def error_response(fake: FakeGraphApi, fault: GraphFault, page_id: str | None) -> Response:
    """Graph's error body, or a plain page for a fault with no Graph code (a proxy's 5xx)."""
    if fault.code == 0:
        return Response(
            "<html><body>Service Unavailable</body></html>", fault.http_status, mimetype="text/html"
        )
    error: dict[str, Any] = {"message": fault.message, "type": "OAuthException", "code": fault.code}
    if fault.subcode is not None:
        error["error_subcode"] = fault.subcode
    error["fbtrace_id"] = fake.next_id("AfakeTrace")
    headers = (fake.usage_headers(page_id) if page_id else {}) | fault.headers
    return json_response({"error": error}, headers, fault.http_status)


CONTROL: dict[str, Callable[[FakeGraphApi], Callable[..., Any]]] = {
    "page": lambda fake: fake.add_page,
    "person": lambda fake: fake.add_person,
    "seed": lambda fake: fake.seed_conversations,
    "advance": lambda fake: fake.advance,
    "sent": lambda fake: lambda: fake.sent,
    "requests": lambda fake: lambda: fake.requests,
    "visitor_message": lambda fake: fake.visitor_message,
    "postback": lambda fake: fake.postback,
    "delivery": lambda fake: fake.delivery,
    "read": lambda fake: fake.read,
    "page_reply": lambda fake: fake.page_reply,
    "deliver": lambda fake: fake.deliver_webhooks,
    "fail_next": lambda fake: fake.fail_next,
}


def control(fake: FakeGraphApi, parts: list[str], args: Mapping[str, Any]) -> Response:
    """`/_fake/{action}`: the Python API over HTTP, keyword arguments as JSON."""
    action = CONTROL.get(parts[0] if parts else "")
    if action is None:
        return json_response({"error": f"unknown action; one of {sorted(CONTROL)}"}, {}, 404)
    try:
        result = action(fake)(**args)
    except (TypeError, RuntimeError, GraphFault) as error:
        return json_response({"error": str(error)}, {}, 400)
    return json_response(jsonable(result), {})


def jsonable(value: Any) -> Any:
    """Dataclasses as dicts and bytes as text, so any result can be sent as JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value.decode() if isinstance(value, bytes) else value
