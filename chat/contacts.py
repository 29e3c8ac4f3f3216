"""Contacts: what agents may change about a contact, and finding contacts.

Phones are kept in E.164 ("+442079460958"), emails as email-validator normalises them (domain
in lower case), remark names stripped. Bad input raises `Invalid` naming the field.
What a member finds is scoped by `chat.permissions.visible_contacts`: a member limited to their
own conversations sees only the contacts of those conversations.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from chat.errors import Invalid, NotFound
from chat.models import Contact, Member
from chat.news import tell_forgotten
from chat.paging import check_limit, decode_cursor, encode_cursor
from chat.permissions import require, require_admin, visible_contacts

REMARK_NAME_MAX = 100
EDITABLE = ("remark_name", "phone", "email", "default_region")


class Unset(enum.Enum):
    """The type of UNSET: an argument that was not given, as opposed to None (clear it)."""

    UNSET = "unset"


UNSET: Final = Unset.UNSET


def update_contact(
    session: Session,
    contact: Contact,
    *,
    remark_name: str | Unset | None = UNSET,
    phone: str | Unset | None = UNSET,
    email: str | Unset | None = UNSET,
    default_region: str | None = None,
) -> Contact:
    """Change the fields given (None or "" clears one); nothing changes if any value is bad.

    `default_region` (such as "GB") lets `phone` be a national number of that region.
    """
    # Every value is checked before any is set, so one bad value leaves the contact as it was.
    remark = contact.remark_name if remark_name is UNSET else clean_remark_name(remark_name)
    number = contact.phone if phone is UNSET else normalise_phone(phone, default_region)
    address = contact.email if email is UNSET else normalise_email(email)
    contact.remark_name, contact.phone, contact.email = remark, number, address
    session.flush()
    return contact


def get_contact(session: Session, member: Member, contact_id: int) -> Contact:
    """The contact `contact_id` if `member` may see it; `NotFound` otherwise, existing or not."""
    query = select(Contact).where(Contact.id == contact_id, visible_contacts(member))
    contact = session.scalars(query).one_or_none()
    if contact is None:
        raise NotFound(f"there is no contact {contact_id} that you can see", field="contact_id")
    return contact


def edit_contact(session: Session, member: Member, contact_id: int, **changes: object) -> Contact:
    """`update_contact` on a contact `member` sees, if they hold `contacts.edit`."""
    require(member, "contacts.edit")
    contact = get_contact(session, member, contact_id)
    return update_contact(session, contact, **_edits(changes))


def delete_contact(session: Session, member: Member, contact_id: int, at: datetime) -> None:
    """Delete a contact for a privacy request, with their identities, conversations and
    messages (the database cascades); the owner or an admin only. The engine is told to
    forget them in the same transaction (its state, trace and drill-down rows go)."""
    require_admin(member)
    contact = get_contact(session, member, contact_id)
    tell_forgotten(session, contact, at)
    session.delete(contact)


def _edits(changes: dict[str, object]) -> dict[str, str | None]:
    # Changes may come straight from a request body: refuse what update_contact cannot take.
    edits: dict[str, str | None] = {}
    for field, value in changes.items():
        if field not in EDITABLE:
            allowed = ", ".join(EDITABLE)
            raise Invalid(field, f"{field!r} cannot be edited; a contact's fields are {allowed}")
        if value is not None and not isinstance(value, str):
            raise Invalid(field, f"{field} is text or null, not {value!r}")
        edits[field] = value
    return edits


def clean_remark_name(raw: str | None) -> str | None:
    """The remark name stripped, None when empty; `Invalid` when longer than 100 characters."""
    value = (raw or "").strip()
    if len(value) > REMARK_NAME_MAX:
        raise Invalid(
            "remark_name",
            f"a remark name has at most {REMARK_NAME_MAX} characters; this one has {len(value)}",
        )
    return value or None


def normalise_phone(raw: str | None, default_region: str | None = None) -> str | None:
    """The phone number in E.164, None when empty; `Invalid` when it is not a valid number."""
    value = (raw or "").strip()
    if not value:
        return None
    if default_region is not None and default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid("default_region", f"{default_region!r} is not a region code such as 'GB'")
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as error:
        raise Invalid("phone", _parse_problem(value, error)) from error
    if not phonenumbers.is_valid_number(number):
        raise Invalid("phone", f"{value!r} is not a valid phone number: check the country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_problem(value: str, error: phonenumbers.NumberParseException) -> str:
    kind = phonenumbers.NumberParseException
    if error.error_type == kind.INVALID_COUNTRY_CODE and not value.startswith("+"):
        return f"{value!r} has no country code: write it as + and the country code, then the number"
    if error.error_type == kind.INVALID_COUNTRY_CODE:
        return f"{value!r} starts with a country code that does not exist"
    if error.error_type == kind.TOO_LONG:
        return f"{value!r} is too long to be a phone number"
    if error.error_type in (kind.TOO_SHORT_NSN, kind.TOO_SHORT_AFTER_IDD):
        return f"{value!r} is too short to be a phone number"
    return f"{value!r} is not a phone number"


def normalise_email(raw: str | None) -> str | None:
    """The email address normalised, None when empty; `Invalid` when it is not an address."""
    value = (raw or "").strip()
    if not value:
        return None
    try:
        # No DNS: a contact's address is recorded, not mailed to, and lookups would be slow.
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise Invalid("email", f"{value!r} is not an email address: {error}") from error


def list_contacts(
    session: Session,
    member: Member,
    *,
    remark_name: str | None = None,
    remark_contains: str | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Contact], str | None]:
    """A page of the contacts `member` may see, newest first, and the cursor of the next page.

    `remark_name` matches exactly; `remark_contains` and `search` (name, remark name, email,
    or the digits of a phone) ignore case. The next cursor is None on the last page.
    """
    query = select(Contact).where(visible_contacts(member))
    for condition in _filters(remark_name, remark_contains, search):
        query = query.where(condition)
    if cursor is not None:
        query = query.where(Contact.id < decode_cursor(cursor))
    query = query.order_by(Contact.id.desc()).limit(check_limit(limit) + 1)
    contacts = list(session.scalars(query))
    if len(contacts) <= limit:
        return contacts, None
    return contacts[:limit], encode_cursor(contacts[limit - 1].id)


def _filters(
    remark_name: str | None, remark_contains: str | None, search: str | None
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if remark_name is not None:
        filters.append(Contact.remark_name == remark_name.strip())
    if remark_contains and remark_contains.strip():
        filters.append(Contact.remark_name.icontains(remark_contains.strip(), autoescape=True))
    if search and search.strip():
        filters.append(_search(search.strip()))
    return filters


def _search(term: str) -> ColumnElement[bool]:
    matches = [
        column.icontains(term, autoescape=True)
        for column in (Contact.name, Contact.remark_name, Contact.email)
    ]
    # Phones are stored as E.164, so "+44 20 7946" finds "+442079460958" by its digits.
    digits = "".join(char for char in term if char.isdigit())
    if digits:
        matches.append(Contact.phone.contains(digits, autoescape=True))
    return or_(*matches)
