"""Errors of the chat layer: one base carrying what an API answer needs.

Each error has a stable `code` that clients may branch on, a `message` written for a person,
the `field` at fault (or None) and the HTTP `status` the web layer answers with.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base of every error the chat layer raises."""

    code = "chat_error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(f"{field}: {message}" if field else message)


class Unauthenticated(ChatError):
    """The request carries no credentials, or ones Parley does not know."""

    code = "unauthenticated"
    status = 401


class Forbidden(ChatError):
    """The member is known but lacks the permission the action needs."""

    code = "forbidden"
    status = 403


class NotFound(ChatError):
    """The thing asked for does not exist, or not in the caller's workspace."""

    code = "not_found"
    status = 404


class Conflict(ChatError):
    """The action clashes with the current state, such as a duplicate email."""

    code = "conflict"
    status = 409


class Invalid(ChatError):
    """A value the caller gave cannot be used; `field` names it and `code` is `invalid_<field>`."""

    status = 422

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, field=field, code=code or f"invalid_{field}")


class RateLimited(ChatError):
    """Too many requests of one kind from one address, visitor or token; `retry_after` is
    how many seconds until the next is allowed."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; try again in {retry_after} s")
        self.retry_after = retry_after
