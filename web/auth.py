"""Members authenticate with `Authorization: Bearer pk_...`; each request is one transaction.

A handler decorated with `member_request` gets the session and the calling member. Engine
events it queues with `tell_engine` are staged in the request's transaction (chat.outbox)
and published once it has committed, so the engine hears of every change that was kept and
of none that was rolled back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from flask import g, request
from sqlalchemy.orm import Session

from chat.members import authenticate
from chat.models import Member
from engine.events import Event
from web.errors import ApiError
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
        g.parley_news = []
        with services().sessions.begin() as session:
            member = authenticate(session, token)
            result = handler(session, member, *args, **kwargs)
            staged = services().outbox.stage(session, g.parley_news)
        services().outbox.deliver(staged)
        return result

    return wrapper


def tell_engine(event: Event) -> None:
    """Queue an engine event, published when the request's transaction commits."""
    news: list[Event] = g.parley_news
    news.append(event)


def bearer_token() -> str:
    """The API token the request carries; 401 without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <API token>", None)
    return token.strip()
