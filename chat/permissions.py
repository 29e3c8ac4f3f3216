"""Who may see and do what: the one scoping rule every chat query goes through.

A member with `conversations.view_all` (owners and admins hold it through their role) sees
every conversation of their workspace; any other member sees only the conversations assigned
to them, the ones they received. Contacts follow conversations: such a member sees a contact
only through a conversation they see. Queries take their WHERE clause from here, so no list,
detail, count or action can be written that forgets the rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, select, true

from chat.errors import Forbidden, Invalid
from chat.models import ALL_PERMISSIONS_ROLES, PERMISSIONS, Contact, Conversation, Member

VIEW_ALL = "conversations.view_all"


def visible_conversations(member: Member) -> ColumnElement[bool]:
    """The SQL condition on `Conversation` that holds for the conversations `member` may see."""
    in_workspace = Conversation.workspace_id == member.workspace_id
    if member.can(VIEW_ALL):
        return in_workspace
    return and_(in_workspace, Conversation.assignee_id == member.id)


def visible_contacts(member: Member) -> ColumnElement[bool]:
    """The SQL condition on `Contact` for the contacts `member` may see, by their conversations."""
    through_conversation: ColumnElement[bool] = true()
    if not member.can(VIEW_ALL):
        # Built on visible_conversations, so contacts can never be scoped by a second rule.
        seen = select(Conversation.id).where(
            Conversation.contact_id == Contact.id, visible_conversations(member)
        )
        through_conversation = exists(seen)
    return and_(Contact.workspace_id == member.workspace_id, through_conversation)


def require(member: Member, permission: str) -> None:
    """Raise `Forbidden` unless `member` holds `permission` (listed or through their role)."""
    if permission not in PERMISSIONS:
        # A typo here would lock everyone but admins out without saying why: fail loudly.
        raise ValueError(f"{permission!r} is not a permission Parley knows")
    if not member.can(permission):
        raise Forbidden(
            f"this needs the {permission!r} permission, which {member.email} does not have;"
            " the workspace owner or an admin can grant it"
        )


def require_admin(member: Member) -> None:
    """Raise `Forbidden` unless `member` is the workspace's owner or an admin."""
    if member.role not in ALL_PERMISSIONS_ROLES:
        raise Forbidden(
            f"only the workspace owner or an admin may do this, and {member.email} is an agent"
        )


def checked_permissions(names: Iterable[object]) -> list[str]:
    """The permission names sorted and without repeats; `Invalid` names the first unknown one."""
    if isinstance(names, str):
        raise Invalid("permissions", "give the permissions as a list of names, not one string")
    cleaned: set[str] = set()
    for name in names:
        if not isinstance(name, str) or name not in PERMISSIONS:
            known = ", ".join(sorted(PERMISSIONS))
            raise Invalid(
                "permissions", f"{name!r} is not a permission; the permissions are {known}"
            )
        cleaned.add(name)
    return sorted(cleaned)
