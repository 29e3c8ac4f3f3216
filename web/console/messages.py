"""The chat layer's errors as the agent reads them, in the console's language.

The chat layer writes its messages in English for the JSON API; the console shows the same
error by its code, translated. A code not listed here (a new one) shows the English message
rather than nothing: `tests/browser` and the catalog test keep this list complete.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from chat.errors import ChatError
from chat.signin import PASSWORD_MAX, PASSWORD_MIN

TEXTS: dict[str, LazyString] = {
    "wrong_password": _l("This email and password do not match a member."),
    "link_expired": _l("This link has been used or is out of date: ask an admin for a new one."),
    "invalid_password": _l(
        "A password has %(min)s to %(max)s characters.", min=PASSWORD_MIN, max=PASSWORD_MAX
    ),
    "mismatch": _l("The two passwords differ."),
    "invalid_date": _l("Give a date such as 2026-12-01."),
    "invalid_received_to": _l("The last day is before the first day."),
    "invalid_assignee_id": _l("Choose an agent from the list."),
    "invalid_cursor": _l("This page link is out of date: start again from the first page."),
    "invalid_conversation_ids": _l("Select at least one conversation."),
    "not_found": _l("This is no longer there, or no longer yours to see: reload the page."),
}


def error_text(err: ChatError) -> str:
    """What to tell the agent about `err`, in their language."""
    text = TEXTS.get(err.code)
    return str(text) if text is not None else err.message
