"""Members authenticate with `Authorization: Bearer pk_...`; each request is one transaction.

A handler decorated with `member_request` gets the session and the calling member. Engine
events that the chat layer's actions stage in the request's transaction (chat.news) are
published once it has committed, so the engine hears of every change that was kept and of
none that was rolled back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from flask import request
from sqlalchemy.orm import Session

from chat.errors import Unauthenticated
from chat.members import authenticate
from chat.models import Member
from web.errors import ApiError
from web.rate_limits import address
from web.services import services

P = ParamSpec("P")
R = TypeVar("R")


def member_request(
    handler: Callable[Concatenate[Session, Member, P], R],
) -> Callable[P, R]:
    """Run `handler` for the authenticated member inside one database transaction."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = bearer_token()
        limiter = services().limiter
        limiter.check("auth_failures", address())  # an address guessing tokens waits
        with services().outbox.transaction() as session:
            try:
                member = authenticate(session, token)
            except Unauthenticated:
                limiter.hit("auth_failures", address())
                raise
            return handler(session, member, *args, **kwargs)

    return wrapper


def bearer_token() -> str:
    """The API token the request carries; 401 without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <API token>", None)
    return token.strip()
