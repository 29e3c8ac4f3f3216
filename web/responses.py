"""The API's answers: one pydantic model per answer, which both serialises what a handler
returns and gives the OpenAPI document its schema, so the two cannot drift.

A handler builds the model (from an ORM row or a view's attributes, or a dict of them) and
returns `answer(model)`. Models forbid fields they do not declare, so a handler that hands
one more field fails at once instead of sending something the document does not promise.
`schemas()` is every model's JSON Schema, for the document's `components.schemas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from flask import Response
from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema
from pydantic.json_schema import models_json_schema

from chat.models import (
    Channel,
    ConversationState,
    Delivery,
    NotificationStatus,
    Role,
    Sender,
    Status,
    SyncScope,
    SyncStatus,
)

REF = "#/components/schemas/{model}"

# Times leave as ISO 8601 with their offset, as `datetime.isoformat` writes them.
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Attachments = list[dict[str, Any]]  # buttons, forms, cuts: see docs/api.md


class Answer(BaseModel):
    """The base of every answer: read from attributes or a dict, no undeclared fields."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_serialization_defaults_required=True,  # an answer always has every field
    )


A = TypeVar("A", bound=Answer)


def read(model: type[A], source: object, **given: Any) -> A:
    """The answer `model` with `given` fields and the rest read from `source`'s attributes of
    the same names (an ORM row, a view)."""
    found = {name: getattr(source, name) for name in model.model_fields if name not in given}
    return model.model_validate({**found, **given})


def answer(model: Answer, status: int = 200) -> Response:
    """The model as the JSON body of a response with this status."""
    return Response(model.model_dump_json(), status=status, mimetype="application/json")


# Errors


class ErrorDetail(Answer):
    """What went wrong: a code to branch on, a message for people, the field at fault."""

    code: str
    message: str
    field: str | None


class Error(Answer):
    """Every error answer."""

    error: ErrorDetail


# Members


class Member(Answer):
    """A member of the workspace as the API shows them (never their password or tokens)."""

    id: int
    email: str
    name: str
    role: Role
    permissions: list[str]
    show_visitor_tags: bool
    prefer_remark_name: bool


class NewMember(Member):
    """A member just added, with their first API token, shown this once."""

    api_token: str


class Members(Answer):
    """The workspace's members."""

    members: list[Member]


class Token(Answer):
    """One of a member's API tokens: its prefix identifies it; the token itself is not kept."""

    id: int
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None


class NewToken(Token):
    """A token just issued, shown this once."""

    api_token: str


class Tokens(Answer):
    """A member's API tokens."""

    tokens: list[Token]


# Contacts


class Contact(Answer):
    """A customer; `display_name` follows the caller's remark-name preference."""

    id: int
    display_name: str
    name: str | None
    remark_name: str | None
    phone: str | None
    email: str | None
    tags: list[str]
    first_seen_at: Timestamp
    last_seen_at: Timestamp


class Contacts(Answer):
    """A page of contacts; `next_cursor` is null on the last page."""

    contacts: list[Contact]
    next_cursor: str | None


# Conversations


class Conversation(Answer):
    """A conversation with its figures, as one member sees it (`contact_tags` is null for a
    member who chose not to see visitor tags)."""

    id: int
    contact_id: int
    display_name: str
    contact_tags: list[str] | None
    channel: Channel
    status: Status
    state: ConversationState
    hosting: bool
    assignee_id: int | None
    tags: list[str]
    is_new_visitor: bool
    received_at: Timestamp
    ended_at: Timestamp | None
    last_activity_at: Timestamp
    message_count: int
    visitor_message_count: int
    agent_message_count: int
    first_response_seconds: int | None
    waiting_since: Timestamp | None


class ReplyWindow(Answer):
    """What an agent may send now in a Messenger conversation."""

    open: bool
    open_until: Timestamp | None
    human_agent_until: Timestamp | None
    tag_required: bool
    allowed_tags: list[str]


class ConversationDetail(Conversation):
    """One conversation; on Messenger with its reply window."""

    reply_window: ReplyWindow | None = None


class Conversations(Answer):
    """A page of conversations; `next_cursor` is null on the last page."""

    conversations: list[Conversation]
    next_cursor: str | None


class Dashboard(Answer):
    """How many conversations the caller sees under the filters."""

    ongoing: int
    ended: int
    total: int


class Message(Answer):
    """A message as members see it."""

    id: int
    sender: Sender
    member_id: int | None
    flow_id: str | None
    text: str | None
    attachments: Attachments
    off_platform: bool
    created_at: Timestamp
    delivery: Delivery | None
    delivery_error: str | None
    message_tag: str | None


class Messages(Answer):
    """A conversation's messages, oldest first."""

    messages: list[Message]


class Change(Answer):
    """What an action changed: each field's old and new value."""

    changed: bool
    fields: dict[str, list[Any]]


class HostingChange(Answer):
    """How many conversations bot hosting was switched for, and which."""

    changed: int
    conversation_ids: list[int]


# Notifications


class NotificationSettings(Answer):
    """Whether members are emailed about waiting visitors, and after how many minutes."""

    email: bool
    after_minutes: int


class Notification(Answer):
    """One email about a conversation's waiting visitor, and how it went."""

    id: int
    member_id: int | None
    email: str
    status: NotificationStatus
    attempts: int
    error: str | None
    waiting_since: Timestamp
    sent_at: Timestamp | None


class Notifications(Answer):
    """A conversation's notification emails."""

    notifications: list[Notification]


# Messenger


class Page(Answer):
    """A connected Facebook Page (its token is never shown)."""

    page_id: str
    name: str
    connected_at: Timestamp


class ConnectedPage(Page):
    """A Page just connected, and whether the app's webhooks subscription to it worked."""

    subscribed: bool
    subscribe_error: str | None


class Pages(Answer):
    """The workspace's connected Pages."""

    pages: list[Page]


class Sync(Answer):
    """An import of a Page's contacts with their last 20 messages."""

    id: int
    scope: SyncScope
    status: SyncStatus
    pages_fetched: int
    contacts_imported: int
    messages_imported: int
    errors: list[str]
    created_at: Timestamp
    finished_at: Timestamp | None


class WebhookReceipt(Answer):
    """How many of a webhook batch's items were queued, and how many were set aside."""

    received: int
    set_aside: int


# The widget


class WidgetStart(Answer):
    """The visitor's conversation, and the token that identifies them from now on."""

    conversation_id: int
    visitor_token: str


class WidgetWritten(Answer):
    """The visitor's message, stored."""

    message_id: int


class Accepted(Answer):
    """The visitor's click or input, accepted for the bot."""

    accepted: bool


class WidgetMessage(Answer):
    """A message as the visitor sees it: no member ids, flow ids or delivery marks."""

    id: int
    sender: Sender
    text: str | None
    attachments: Attachments
    created_at: Timestamp


class WidgetMessages(Answer):
    """The conversation's messages after the given id, oldest first."""

    messages: list[WidgetMessage]


# Flows


class Flow(Answer):
    """A loaded flow."""

    id: str
    name: str
    version: str
    trigger: str
    path: str


class Finding(Answer):
    """A finding of the flow checker, at a file's line and column."""

    path: str
    line: int
    col: int
    severity: Literal["error", "warning"]
    message: str
    rule: str
    hint: str | None


class Flows(Answer):
    """The flows every process runs, and the findings of the reload that chose them (a file
    with errors keeps its previous version, listed here, if it had one)."""

    flows: list[Flow]
    findings: list[Finding]


class Funnel(Answer):
    """A flow's funnel: triggers, visitors triggered, engaged and completed, and per step."""

    flow: str
    scope: str
    triggers: int
    retriggers: int
    triggered_visitors: int
    engaged_visitors: int
    completed_visitors: int
    completed_after_engaging: int
    engagement_rate: float
    completion_rate: float
    steps: dict[str, int]


class FlowVisitor(Answer):
    """What one visitor did in a flow (trigger times in epoch seconds)."""

    visitor_id: str
    status: Literal["completed", "engaged", "not_engaged"]
    triggers: int
    channel: str
    first_trigger: float
    last_trigger: float
    conversation_id: str


class FlowVisitors(Answer):
    """A page of a flow's visitors, newest trigger first."""

    visitors: list[FlowVisitor]
    next_cursor: str | None


# Health


class Alive(Answer):
    """The process answers."""

    status: Literal["ok"]


class CheckResult(Answer):
    """One readiness check."""

    ok: bool
    detail: str


class Readiness(Answer):
    """Whether the service is ready, and each check's result."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckResult]


def ref(model: type[Answer]) -> dict[str, str]:
    """The document's reference to a model's schema."""
    return {"$ref": REF.format(model=model.__name__)}


def schemas() -> dict[str, Any]:
    """Every answer's JSON Schema, by model name, as they serialise (for the document)."""
    answers = [(model, "serialization") for model in _models(Answer)]
    _, found = models_json_schema(answers, ref_template=REF)  # type: ignore[arg-type]
    defs: dict[str, Any] = found["$defs"]
    return defs


def _models(base: type[Answer]) -> list[type[Answer]]:
    found = []
    for model in base.__subclasses__():
        found.extend([model, *_models(model)])
    return found
