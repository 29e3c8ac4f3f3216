"""Contacts: remark names, phones and emails as agents edit them; finding and paging contacts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from chat.contacts import list_contacts, update_contact
from chat.errors import Invalid
from chat.models import Contact, Member, Workspace

AddContact = Callable[..., Contact]


def test_remark_name_is_stored_stripped(session: Session, add_contact: AddContact) -> None:
    contact = update_contact(session, add_contact(name="Anna"), remark_name="  VIP Anna  ")
    assert contact.remark_name == "VIP Anna"
    assert contact.display_name(prefer_remark=True) == "VIP Anna"
    assert contact.display_name(prefer_remark=False) == "Anna"


@pytest.mark.parametrize("cleared", ["", "   ", None])
def test_an_empty_remark_name_clears_it(
    session: Session, add_contact: AddContact, cleared: str | None
) -> None:
    contact = add_contact(name="Anna", remark_name="VIP Anna")
    assert update_contact(session, contact, remark_name=cleared).remark_name is None


def test_a_remark_name_over_100_characters_is_refused(
    session: Session, add_contact: AddContact
) -> None:
    with pytest.raises(Invalid) as caught:
        update_contact(session, add_contact(), remark_name="x" * 101)
    assert (caught.value.field, caught.value.code, caught.value.status) == (
        "remark_name",
        "invalid_remark_name",
        422,
    )
    assert "at most 100 characters" in caught.value.message


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("+33 1 42 68 53 00", "+33142685300"),
        ("  +442079460958 ", "+442079460958"),
    ],
)
def test_international_phones_are_stored_in_e164(
    session: Session, add_contact: AddContact, given: str, stored: str
) -> None:
    assert update_contact(session, add_contact(), phone=given).phone == stored


def test_a_national_phone_needs_a_default_region(session: Session, add_contact: AddContact) -> None:
    contact = add_contact()
    with pytest.raises(Invalid, match="no country code") as caught:
        update_contact(session, contact, phone="020 7946 0958")
    assert caught.value.field == "phone"
    assert caught.value.code == "invalid_phone"
    updated = update_contact(session, contact, phone="020 7946 0958", default_region="GB")
    assert updated.phone == "+442079460958"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("call me", "is not a phone number"),
        ("+1 555", "is not a valid phone number"),
        ("+999 1234 5678", "country code that does not exist"),
        ("+44 20 7946 0958 0958 0958 0958 0958", "too long"),
    ],
)
def test_a_bad_phone_is_refused_with_the_reason(
    session: Session, add_contact: AddContact, given: str, problem: str
) -> None:
    with pytest.raises(Invalid, match=problem) as caught:
        update_contact(session, add_contact(), phone=given)
    assert caught.value.field == "phone"


def test_an_unknown_default_region_is_refused(session: Session, add_contact: AddContact) -> None:
    with pytest.raises(Invalid) as caught:
        update_contact(session, add_contact(), phone="020 7946 0958", default_region="XX")
    assert caught.value.field == "default_region"


def test_email_is_stored_normalised(session: Session, add_contact: AddContact) -> None:
    contact = update_contact(session, add_contact(), email="  Anna.K@Example.COM ")
    assert contact.email == "Anna.K@example.com"


@pytest.mark.parametrize("given", ["anna@", "anna@example", "anna k@example.com", "@example.com"])
def test_a_bad_email_is_refused(session: Session, add_contact: AddContact, given: str) -> None:
    with pytest.raises(Invalid, match="is not an email address") as caught:
        update_contact(session, add_contact(), email=given)
    assert (caught.value.field, caught.value.code) == ("email", "invalid_email")


def test_phone_and_email_are_cleared_by_none_or_empty(
    session: Session, add_contact: AddContact
) -> None:
    contact = add_contact(phone="+442079460958", email="anna@example.com")
    update_contact(session, contact, phone=None, email="")
    assert (contact.phone, contact.email) == (None, None)


def test_fields_not_given_are_left_alone(session: Session, add_contact: AddContact) -> None:
    contact = add_contact(remark_name="VIP", phone="+442079460958", email="anna@example.com")
    update_contact(session, contact, remark_name="Regular")
    assert (contact.remark_name, contact.phone, contact.email) == (
        "Regular",
        "+442079460958",
        "anna@example.com",
    )


def test_one_bad_value_changes_nothing(session: Session, add_contact: AddContact) -> None:
    contact = add_contact(remark_name="VIP")
    with pytest.raises(Invalid):
        update_contact(session, contact, remark_name="Regular", phone="not a phone")
    assert contact.remark_name == "VIP"


def test_updates_are_stored(
    session: Session, add_contact: AddContact, new_session: Callable[[], Session]
) -> None:
    contact = add_contact(name="Anna")
    update_contact(session, contact, remark_name="VIP", phone="+44 20 7946 0958")
    session.commit()
    with new_session() as other:
        stored = other.get_one(Contact, contact.id)
        assert (stored.remark_name, stored.phone) == ("VIP", "+442079460958")


def remarks(contacts: list[Contact]) -> list[str | None]:
    return [contact.remark_name for contact in contacts]


def test_filter_by_exact_remark_name(
    session: Session, owner: Member, add_contact: AddContact
) -> None:
    for remark in ("Anna", "Anna K", "anna"):
        add_contact(remark_name=remark)
    contacts, _ = list_contacts(session, owner, remark_name="Anna")
    assert remarks(contacts) == ["Anna"]


def test_filter_by_remark_name_containing_ignores_case(
    session: Session, owner: Member, add_contact: AddContact
) -> None:
    for remark in ("Anna", "JoANNe", "Bob", None):
        add_contact(remark_name=remark)
    contacts, _ = list_contacts(session, owner, remark_contains="ann")
    assert remarks(contacts) == ["JoANNe", "Anna"]


def test_wildcards_in_a_filter_match_themselves(
    session: Session, owner: Member, add_contact: AddContact
) -> None:
    add_contact(remark_name="100% loyal")
    add_contact(remark_name="loyal_1")
    add_contact(remark_name="plain")
    assert remarks(list_contacts(session, owner, remark_contains="%")[0]) == ["100% loyal"]
    assert remarks(list_contacts(session, owner, search="_")[0]) == ["loyal_1"]


SEARCHABLE = {
    "by name": {"name": "Anna Karenina"},
    "by remark": {"name": "Bob", "remark_name": "VIP"},
    "by email": {"name": "Carl", "email": "carl@example.org"},
    "by phone": {"name": "Dora", "phone": "+442079460958"},
}


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("anna", ["by name"]),
        ("vip", ["by remark"]),
        ("EXAMPLE.ORG", ["by email"]),
        ("+44 20 7946", ["by phone"]),
        ("7946 0958", ["by phone"]),
        ("zzz", []),
    ],
)
def test_search_looks_at_name_remark_email_and_phone(
    session: Session, owner: Member, add_contact: AddContact, term: str, found: list[str]
) -> None:
    labels = {add_contact(**fields).id: label for label, fields in SEARCHABLE.items()}
    contacts, _ = list_contacts(session, owner, search=term)
    assert [labels[contact.id] for contact in contacts] == found


def test_contacts_of_other_workspaces_are_not_listed(
    session: Session, owner: Member, add_contact: AddContact
) -> None:
    other = Workspace(name="Other")
    session.add(other)
    session.flush()
    add_contact(workspace_id=other.id, remark_name="theirs")
    add_contact(remark_name="ours")
    assert remarks(list_contacts(session, owner)[0]) == ["ours"]


def test_pages_cover_every_contact_once_newest_first(
    session: Session, owner: Member, add_contact: AddContact
) -> None:
    ids = [add_contact(name=f"Visitor {number}").id for number in range(7)]
    seen: list[int] = []
    cursor: str | None = None
    sizes: list[int] = []
    while True:
        page, cursor = list_contacts(session, owner, cursor=cursor, limit=3)
        seen += [contact.id for contact in page]
        sizes.append(len(page))
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == sorted(ids, reverse=True)


def test_paging_keeps_the_filter(session: Session, owner: Member, add_contact: AddContact) -> None:
    for number in range(5):
        add_contact(remark_name=f"vip {number}")
        add_contact(remark_name=f"regular {number}")
    first, cursor = list_contacts(session, owner, remark_contains="VIP", limit=3)
    assert cursor is not None
    rest, last = list_contacts(session, owner, remark_contains="VIP", cursor=cursor)
    assert remarks(first + rest) == [f"vip {number}" for number in range(4, -1, -1)]
    assert last is None


def test_a_page_that_ends_exactly_has_no_next_cursor(
    session: Session, owner: Member, add_contact: AddContact
) -> None:
    for _ in range(3):
        add_contact()
    page, cursor = list_contacts(session, owner, limit=3)
    assert (len(page), cursor) == (3, None)


@pytest.mark.parametrize("cursor", ["nonsense", "", "YmVmb3JlOng", "%%%"])
def test_a_cursor_parley_did_not_give_is_refused(
    session: Session, owner: Member, cursor: str
) -> None:
    with pytest.raises(Invalid) as caught:
        list_contacts(session, owner, cursor=cursor)
    assert (caught.value.field, caught.value.status) == ("cursor", 422)


@pytest.mark.parametrize("limit", [0, -1, 201])
def test_a_page_size_out_of_range_is_refused(session: Session, owner: Member, limit: int) -> None:
    with pytest.raises(Invalid) as caught:
        list_contacts(session, owner, limit=limit)
    assert caught.value.field == "limit"
