"""The fake's read side: the `fields` parameter, conversation lists, messages, profiles.

`fields` is Graph's field-expansion syntax: `participants,messages.limit(20){id,message}`.
Cursors are opaque to clients but here just (updated time, id) of an edge item, so a list
stays consistent while threads are added or updated between pages.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.fakes.graph_state import (
    MESSAGE_DETAIL_LIMIT,
    Conversation,
    GraphFault,
    GraphState,
    Message,
    graph_time,
    invalid,
)

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
CONVERSATION_FIELDS = {"id", "updated_time", "participants", "messages", "message_count"}
MESSAGE_FIELDS = {"id", "created_time", "from", "to", "message", "attachments", "reply_to"}
PROFILE_FIELDS = {"id", "first_name", "last_name", "name", "profile_pic"}


@dataclass(frozen=True)
class Field:
    """One requested field, with its modifiers (`limit`) and nested fields, if any."""

    name: str
    modifiers: Mapping[str, str]
    nested: Mapping[str, Field] | None


class FieldParser:
    """Reads a `fields` value; anything malformed is Graph's error 100."""

    def __init__(self, text: str) -> None:
        self.text = text.replace(" ", "")
        self.at = 0

    def parse(self) -> dict[str, Field]:
        """All the fields named, by name."""
        fields = self.field_list()
        if self.at != len(self.text):
            raise invalid(f"Syntax error in fields at character {self.at}: {self.text}")
        return fields

    def field_list(self) -> dict[str, Field]:
        """Fields separated by commas."""
        fields = {}
        while True:
            field = self.field()
            fields[field.name] = field
            if not self.take(","):
                return fields

    def field(self) -> Field:
        """A name, then `.modifier(value)`s and a `{nested,fields}` in any order."""
        name = self.word()
        modifiers: dict[str, str] = {}
        nested = None
        while self.take(".") or self.text.startswith("{", self.at):
            if self.take("{"):
                nested = self.field_list()
                self.expect("}")
                continue
            key = self.word()
            self.expect("(")
            end = self.text.find(")", self.at)
            if end < 0:
                raise invalid(f"Syntax error in fields: unclosed modifier {key}")
            modifiers[key], self.at = self.text[self.at : end], end + 1
        return Field(name, modifiers, nested)

    def word(self) -> str:
        """A field or modifier name."""
        match = WORD.match(self.text, self.at)
        if match is None:
            raise invalid(f"Syntax error in fields at character {self.at}: {self.text}")
        self.at = match.end()
        return match.group()

    def take(self, char: str) -> bool:
        """Step over `char` if it comes next."""
        if self.text.startswith(char, self.at):
            self.at += 1
            return True
        return False

    def expect(self, char: str) -> None:
        """Step over `char`, which must come next."""
        if not self.take(char):
            raise invalid(f"Syntax error in fields: expected '{char}' at character {self.at}")


def requested(
    text: str | None, allowed: set[str], default: Iterable[str], node: str
) -> Mapping[str, Field]:
    """The fields a request asks for, checked against what the node type has."""
    return checked(FieldParser(text).parse() if text else plain(default), allowed, node)


def plain(names: Iterable[str]) -> dict[str, Field]:
    """Fields without modifiers or nested fields, as a node's defaults are."""
    return {name: Field(name, {}, None) for name in names}


def checked(fields: Mapping[str, Field], allowed: set[str], node: str) -> Mapping[str, Field]:
    """The fields, if the node type has them all; else Graph's 'nonexisting field' error."""
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise invalid(f"Tried accessing nonexisting field ({unknown[0]}) on node type ({node})")
    return fields


def limit_of(value: str | None) -> int:
    """A `limit` value, capped at Graph's 100."""
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or int(value) == 0:
        raise invalid("param limit must be a positive integer")
    return min(int(value), MAX_LIMIT)


def cursor(conversation: Conversation) -> str:
    """An opaque cursor pointing at a conversation's place in the list."""
    return base64.urlsafe_b64encode(f"{conversation.updated!r}|{conversation.id}".encode()).decode()


def sort_key(conversation: Conversation) -> tuple[float, str]:
    """Newest first: by updated time, then by id so equal times keep one order."""
    return conversation.updated, conversation.id


def decode_cursor(value: str) -> tuple[float, str]:
    """The sort key a cursor points at; a cursor the fake did not make is error 100."""
    try:
        updated, conversation_id = base64.urlsafe_b64decode(value.encode()).decode().split("|")
        return float(updated), conversation_id
    except ValueError:
        raise invalid("Invalid cursor") from None


def conversation_list(
    state: GraphState, page_id: str, params: Mapping[str, str], url: str, *, short: bool
) -> dict[str, Any]:
    """One page of a Page's conversations, newest first, with `paging` as Graph gives it."""
    if params.get("platform") != "messenger":
        raise invalid("param platform must be messenger or instagram")
    if "since" in params or "until" in params:
        raise invalid("The conversations edge does not support time-based paging (since/until)")
    fields = requested(
        params.get("fields"), CONVERSATION_FIELDS, ["id", "updated_time"], "Conversation"
    )
    threads = sorted(
        (c for c in state.conversations.values() if c.page_id == page_id and c.messages),
        key=sort_key,
        reverse=True,
    )
    if "user_id" in params:
        threads = [c for c in threads if c.psid == params["user_id"]]
    limit = limit_of(params.get("limit"))
    if "after" in params:
        edge = decode_cursor(params["after"])
        threads = [c for c in threads if sort_key(c) < edge]
    elif "before" in params:
        edge = decode_cursor(params["before"])
        threads = [c for c in threads if sort_key(c) > edge][-limit:]
    shown = threads[: max(1, limit // 2) if short else limit]
    body: dict[str, Any] = {"data": [render_conversation(state, c, fields) for c in shown]}
    if shown:
        body["paging"] = {"cursors": {"before": cursor(shown[0]), "after": cursor(shown[-1])}}
        if len(threads) > len(shown):
            query = {k: v for k, v in params.items() if k != "before"} | {
                "after": cursor(shown[-1])
            }
            body["paging"]["next"] = f"{url}?{urlencode(query)}"
    return body


def render_conversation(
    state: GraphState, conversation: Conversation, fields: Mapping[str, Field]
) -> dict[str, Any]:
    """A conversation with the fields asked for."""
    body: dict[str, Any] = {"id": conversation.id}
    if "updated_time" in fields:
        body["updated_time"] = graph_time(conversation.updated)
    if "message_count" in fields:
        body["message_count"] = len(conversation.messages)
    if "participants" in fields:
        people = (conversation.psid, conversation.page_id)
        body["participants"] = {"data": [participant(state, pid) for pid in people]}
    if "messages" in fields:
        body["messages"] = message_list(state, conversation, fields["messages"])
    return body


def participant(state: GraphState, object_id: str) -> dict[str, str]:
    """A person or Page as Graph lists it in `from`, `to` and `participants`."""
    page = state.pages.get(object_id)
    name = page.name if page else state.people[object_id].name
    return {"id": object_id, "name": name, "email": f"{object_id}@facebook.com"}


def message_list(state: GraphState, conversation: Conversation, field: Field) -> dict[str, Any]:
    """A thread's messages, newest first; past the 20 newest only id and created_time."""
    fields = checked(field.nested or plain(["id", "created_time"]), MESSAGE_FIELDS, "Message")
    newest = conversation.messages[::-1]
    shown = newest[: limit_of(field.modifiers.get("limit"))]
    data = [
        render_message(state, message, fields if rank < MESSAGE_DETAIL_LIMIT else {})
        for rank, message in enumerate(shown)
    ]
    body: dict[str, Any] = {"data": data}
    if len(newest) > len(shown):
        body["paging"] = {"cursors": {"after": base64.b64encode(shown[-1].mid.encode()).decode()}}
    return body


def render_message(
    state: GraphState, message: Message, fields: Mapping[str, Field]
) -> dict[str, Any]:
    """A message with the fields asked for (id and created_time always)."""
    body: dict[str, Any] = {"id": message.mid, "created_time": graph_time(message.created)}
    if "from" in fields:
        body["from"] = participant(state, message.sender)
    if "to" in fields:
        body["to"] = {"data": [participant(state, message.recipient)]}
    if "message" in fields:
        body["message"] = message.text or ""
    if "attachments" in fields and message.attachments:
        body["attachments"] = {"data": message.attachments}
    return body


def message_details(state: GraphState, mid: str, params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /{message-id}`: one of a thread's 20 newest messages, else 'deleted'."""
    fields = requested(params.get("fields"), MESSAGE_FIELDS, ["id", "created_time"], "Message")
    _, message = state.message(mid)
    return render_message(state, message, fields)


def conversation_details(
    state: GraphState, conversation_id: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """`GET /{conversation-id}`: the thread with the fields asked for."""
    fields = requested(params.get("fields"), CONVERSATION_FIELDS, ["id"], "Conversation")
    if conversation_id not in state.conversations:
        raise invalid(f"Unsupported get request. Object with ID '{conversation_id}' does not exist")
    return render_conversation(state, state.conversations[conversation_id], fields)


def profile(state: GraphState, psid: str, params: Mapping[str, str]) -> dict[str, Any]:
    """`GET /{psid}`: the profile fields Meta lets the Page see."""
    fields = requested(
        params.get("fields"), PROFILE_FIELDS, ["first_name", "last_name", "profile_pic"], "User"
    )
    person = state.person(psid)
    if person.profile == "none":
        return {}
    if person.profile == "phone_only":
        raise GraphFault(100, "No profile available for this user.", subcode=2018218)
    known = {
        "id": person.psid,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "name": person.name,
        "profile_pic": f"https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={psid}",
    }
    return {name: known[name] for name in fields}
