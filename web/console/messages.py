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
from web.notifications import MAX_WAIT_MINUTES

TEXTS: dict[str, LazyString] = {
    "wrong_password": _l("This email and password do not match a member."),
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
    "invalid_cursor": _l(
        "This link to older conversations is out of date: here are the newest instead."
    ),
}


def error_text(err: ChatError) -> str:
    """What to tell the agent about `err`, in their language."""
    text = TEXTS.get(err.code)
    return str(text) if text is not None else err.message
