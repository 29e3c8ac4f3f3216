"""`message_received`: the visitor writes; with `keywords`, only a message holding one of
them (as whole words, in order, any case) starts the flow."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dsl.triggers.kind import Seen, TriggerKind, options

if TYPE_CHECKING:
    from dsl.model import Trigger

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> str:
    """The words of `text` as the keywords are matched against: ` lower case words `."""
    return f" {' '.join(_WORD.findall(text.lower()))} "


def _holds_a_keyword(trigger: Trigger, seen: Seen) -> bool:
    return not trigger.keywords or any(words(k) in seen.words for k in trigger.keywords)


KIND = TriggerKind(
    name="message_received",
    options=options(
        keywords={
            "type": "array",
            "items": {
                "type": "string",
                "pattern": "[^\\W_]",
                "title": "keyword",
                "description": "a word or phrase with at least one letter or digit",
            },
            "minItems": 1,
        }
    ),
    starts_on=frozenset({"message.received"}),
    matches=_holds_a_keyword,
)
