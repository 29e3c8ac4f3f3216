"""Members sign in to the console with their email and a password.

Passwords are hashed with Argon2id (argon2-cffi's defaults: 64 MiB of memory, 3 passes). A
member sets theirs through a one-time link: the owner's is printed at the first start, others
come with the invitation. Signing in makes a console session: the browser's cookie holds a
random token, Parley keeps its SHA-256 and when it expires, so signing out (or a stolen
cookie revoked) ends it at once.
"""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chat.errors import Invalid, Unauthenticated
from chat.members import token_digest
from chat.models import ConsoleSession, Member, PasswordLink

__all__ = [
    "PASSWORD_MIN",
    "issue_password_link",
    "link_member",
    "sign_in",
    "sign_out",
    "signed_in_member",
    "use_password_link",
]

PASSWORD_MIN = 10
PASSWORD_MAX = 200
SESSION_LIFETIME = timedelta(days=14)
LINK_LIFETIME = timedelta(days=7)
_HASHER = PasswordHasher()
_WRONG = "this email and password do not match a member"


def issue_password_link(session: Session, member: Member, now: datetime) -> str:
    """A new one-time token for `member` to set their password, valid for LINK_LIFETIME."""
    return _issue(session, PasswordLink, member, now, LINK_LIFETIME)


def link_member(session: Session, token: str, now: datetime) -> Member:
    """The member a password link is for; `Unauthenticated` if it is used, unknown or old."""
    link = session.scalars(
        select(PasswordLink).where(PasswordLink.token_hash == token_digest(token))
    )
    found = link.first()
    if found is None or found.expires_at <= now:
        raise Unauthenticated(
            "this link has been used or is out of date: ask an admin for a new one",
            code="link_expired",
        )
    member = session.get(Member, found.member_id)
    assert member is not None  # links go with their member (ON DELETE CASCADE)
    return member


def use_password_link(session: Session, token: str, password: str, now: datetime) -> Member:
    """Set the password of the link's member; the link (and any other of theirs) is used up."""
    member = link_member(session, token, now)
    _check_password(password)
    member.password_hash = _HASHER.hash(password)
    session.execute(delete(PasswordLink).where(PasswordLink.member_id == member.id))
    session.execute(delete(ConsoleSession).where(ConsoleSession.member_id == member.id))
    session.flush()
    return member


def sign_in(session: Session, email: str, password: str, now: datetime) -> tuple[Member, str]:
    """The member with this email and password, and a new session token for their cookie."""
    address = (email or "").strip().lower()  # as members are stored
    member = session.scalars(select(Member).where(Member.email == address)).first()
    if member is None or member.password_hash is None:
        _verify(_unknown_hash(), password)
        raise Unauthenticated(_WRONG, field="password", code="wrong_password")
    if not _verify(member.password_hash, password):
        raise Unauthenticated(_WRONG, field="password", code="wrong_password")
    if _HASHER.check_needs_rehash(member.password_hash):
        member.password_hash = _HASHER.hash(password)
    return member, _issue(session, ConsoleSession, member, now, SESSION_LIFETIME)


def signed_in_member(session: Session, token: str, now: datetime) -> Member:
    """The member whose console session this is; `Unauthenticated` if none or expired."""
    query = (
        select(Member)
        .join(ConsoleSession, ConsoleSession.member_id == Member.id)
        .where(ConsoleSession.token_hash == token_digest(token), ConsoleSession.expires_at > now)
    )
    member = session.scalars(query).first()
    if member is None:
        raise Unauthenticated("sign in to go on", code="signed_out")
    return member


def sign_out(session: Session, token: str) -> None:
    """End the console session of this token (nothing if it has ended already)."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_digest(token)))


def _issue(
    session: Session,
    kind: type[ConsoleSession | PasswordLink],
    member: Member,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """A new random token of `kind` for `member`; only its SHA-256 is kept."""
    token = secrets.token_urlsafe(32)
    session.add(
        kind(
            member_id=member.id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


@functools.cache
def _unknown_hash() -> str:
    """Checked when the email is unknown, so an answer takes as long for a stranger as for a
    member; made on first use, not when the module loads (every `parley` command imports it)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise Invalid("password", f"a password has at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise Invalid("password", f"a password has at most {PASSWORD_MAX} characters")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False
