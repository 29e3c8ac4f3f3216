"""The chat layer's errors as the agent reads them, in the console's language.

The chat layer writes its messages in English for the JSON API; the console shows the same
error by its code, translated. A code not listed here (a new one) shows the English message
rather than nothing: `tests/browser` and the catalog test keep this list complete.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from chat.contacts import REMARK_NAME_MAX
from chat.errors import ChatError
from chat.inbox_actions import REPLY_MAX
from chat.signin import PASSWORD_MAX, PASSWORD_MIN
from chat.values import TAG_MAX
from web.notifications import MAX_WAIT_MINUTES

_TAG = _l("A tag has 1 to %(max)s characters.", max=TAG_MAX)
TEXTS: dict[str, LazyString] = {
    "wrong_password": _l("This email and password do not match a member."),
    "rate_limited": _l("Too many tries from here: wait a minute, then try again."),
    "link_expired": _l("This link has been used or is out of date: ask an admin for a new one."),
    "invalid_password": _l(
        "A password has %(min)s to %(max)s characters.", min=PASSWORD_MIN, max=PASSWORD_MAX
    ),
    "mismatch": _l("The two passwords differ."),
    "forbidden": _l("You may not do this: ask the workspace owner or an admin."),
    "not_found": _l("This is no longer here: reload the page."),
    "conflict:email": _l("This email address is already a member's."),
    "conflict:page_id": _l("This Page is connected to another workspace."),
    "invalid_email": _l("Give a valid email address."),
    "invalid_name": _l("Give a name of 1 to 200 characters."),
    "invalid_role": _l("A member is an admin or an agent."),
    "invalid_permissions": _l("Choose permissions from the list."),
    "invalid_after_minutes": _l(
        "The waiting time is a whole number of minutes, from 1 to %(max)s.", max=MAX_WAIT_MINUTES
    ),
    "invalid_page_id": _l("A Page ID is the Page's number, up to 64 digits."),
    "invalid_access_token": _l("Paste the Page access token: printable characters, no spaces."),
    "invalid_date": _l("Give a date such as 2026-12-01."),
    "invalid_received_to": _l("The last day is before the first day."),
    "invalid_cursor": _l("This page link is out of date: start again from the first page."),
    "invalid_conversation_ids": _l("Select at least one conversation."),
    "invalid_remark_name": _l("A remark name has at most %(max)s characters.", max=REMARK_NAME_MAX),
    "invalid_phone": _l(
        "This is not a phone number: write + and the country code, then the number"
        " (such as +44 20 7946 0958)."
    ),
    "invalid_text": _l("A reply needs some text, at most %(max)s characters.", max=REPLY_MAX),
    "window_closed": _l(
        "Messenger's reply window has closed, so this reply was not sent: past 7 days a reply"
        " needs one of the message tags this deployment allows."
    ),
    "invalid_add": _TAG,
    "invalid_remove": _TAG,
    "invalid_tag": _TAG,
    "invalid_assignee_id": _l("Choose a member of this workspace."),
}


def error_text(err: ChatError) -> str:
    """What to tell the agent about `err`, in their language."""
    text = TEXTS.get(err.code)
    return str(text) if text is not None else err.message
