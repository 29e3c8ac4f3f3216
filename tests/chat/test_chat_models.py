"""What the models work out by themselves: names to show, permissions, conversation state."""

from __future__ import annotations

import pytest

from chat.errors import ChatError, Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from chat.models import Contact, Conversation, Member, Role


@pytest.mark.parametrize(
    ("name", "remark", "prefer_remark", "shown"),
    [
        ("Anna", "VIP Anna", True, "VIP Anna"),
        ("Anna", "VIP Anna", False, "Anna"),
        ("Anna", None, True, "Anna"),
        (None, "VIP Anna", False, "VIP Anna"),
        (None, None, True, "Contact 7"),
    ],
)
def test_display_name(
    name: str | None, remark: str | None, prefer_remark: bool, shown: str
) -> None:
    contact = Contact(id=7, name=name, remark_name=remark)
    assert contact.display_name(prefer_remark) == shown


@pytest.mark.parametrize(
    ("role", "listed", "allowed"),
    [
        ("owner", [], True),
        ("admin", [], True),
        ("agent", [], False),
        ("agent", ["contacts.edit"], True),
        ("agent", ["conversations.view_all"], False),
    ],
)
def test_owners_and_admins_hold_every_permission(
    role: Role, listed: list[str], allowed: bool
) -> None:
    member = Member(role=role, permissions=listed)
    assert member.can("contacts.edit") is allowed


@pytest.mark.parametrize(
    ("hosting", "assignee_id", "state"),
    [
        (True, 3, "hosted"),
        (True, None, "hosted"),
        (False, 3, "assigned"),
        (False, None, "unassigned"),
    ],
)
def test_state_follows_hosting_then_assignee(
    hosting: bool, assignee_id: int | None, state: str
) -> None:
    assert Conversation(hosting=hosting, assignee_id=assignee_id).state == state


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (Unauthenticated("unknown token"), "unauthenticated", 401),
        (Forbidden("needs contacts.edit"), "forbidden", 403),
        (NotFound("no contact 7"), "not_found", 404),
        (Conflict("email taken", field="email"), "conflict", 409),
        (Invalid("phone", "not a number"), "invalid_phone", 422),
        (Invalid("phone", "not a number", code="phone_not_mobile"), "phone_not_mobile", 422),
        (ChatError("teapot", code="teapot", status=418), "teapot", 418),
    ],
)
def test_errors_carry_code_and_status(error: ChatError, code: str, status: int) -> None:
    assert (error.code, error.status) == (code, status)


def test_an_invalid_value_names_its_field() -> None:
    error = Invalid("email", "'anna@' is not an email address")
    assert (error.field, error.message) == ("email", "'anna@' is not an email address")
    assert str(error) == "email: 'anna@' is not an email address"
