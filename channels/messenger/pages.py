"""Connecting a Facebook Page to a workspace: the API's and the console's one way to do it.

The Graph API is called between two short transactions, so no database lock waits on Meta:
the first checks who connects and that the Page is not another workspace's, the second
stores the Page (or a connected Page's new name and token). A failed webhook subscription
is reported, not fatal: the Page is connected, and connecting it again subscribes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.messenger.graph import GraphClient, GraphError
from channels.messenger.people import find_page
from chat.errors import Conflict, NotFound
from chat.models import Member, MessengerPage, MessengerSync
from chat.permissions import require


@dataclass(frozen=True, slots=True)
class Connection:
    """A Page just connected: whether it is new here, and why its subscription failed, if so."""

    page: MessengerPage  # readable after its transaction (its token is never to be shown)
    created: bool
    subscribe_error: str | None


def connect_page(
    sessions: sessionmaker[Session],
    graph: GraphClient,
    actor: Callable[[Session], Member],
    page: tuple[str, str, str],
    now: Callable[[], datetime],
) -> Connection:
    """Connect the Page `(page_id, name, access_token)` for `actor(session)`, who needs
    `settings.manage`; `Conflict` if it is connected to another workspace."""
    page_id, name, token = page
    with sessions.begin() as session:
        member = actor(session)
        require(member, "settings.manage")
        workspace_id = member.workspace_id
        _refuse_foreign(find_page(session, page_id), workspace_id)
    subscribe_error = _subscribe(graph, page_id, token)
    with sessions.begin() as session:
        found = find_page(session, page_id)
        _refuse_foreign(found, workspace_id)
        created = found is None
        if found is None:
            found = MessengerPage(workspace_id=workspace_id, page_id=page_id, connected_at=now())
            session.add(found)
        found.name, found.access_token = name, token
        session.flush()
    return Connection(found, created, subscribe_error)


def workspace_pages(session: Session, member: Member) -> list[MessengerPage]:
    """The Pages connected to the member's workspace, first connected first."""
    query = (
        select(MessengerPage)
        .where(MessengerPage.workspace_id == member.workspace_id)
        .order_by(MessengerPage.id)
    )
    return list(session.scalars(query))


def own_page(session: Session, member: Member, page_id: str) -> MessengerPage:
    """The Page `page_id` if connected to the member's workspace; else `NotFound`."""
    page = find_page(session, page_id)
    if page is None or page.workspace_id != member.workspace_id:
        raise NotFound(f"no Page {page_id} is connected here", field="page_id")
    return page


def own_sync(session: Session, member: Member, sync_id: int) -> MessengerSync:
    """The sync `sync_id` of a Page of the member's workspace; else `NotFound`."""
    job = session.get(MessengerSync, sync_id)
    page = session.get(MessengerPage, job.page_id) if job else None
    if job is None or page is None or page.workspace_id != member.workspace_id:
        raise NotFound(f"no sync {sync_id} here", field="sync_id")
    return job


def latest_sync(session: Session, page: MessengerPage) -> MessengerSync | None:
    """The Page's most recently started sync, if it ever had one."""
    query = select(MessengerSync).where(MessengerSync.page_id == page.id)
    return session.scalars(query.order_by(MessengerSync.id.desc()).limit(1)).first()


def _refuse_foreign(page: MessengerPage | None, workspace_id: int) -> None:
    if page is not None and page.workspace_id != workspace_id:
        raise Conflict("this Page is connected to another workspace", field="page_id")


def _subscribe(graph: GraphClient, page_id: str, token: str) -> str | None:
    """Subscribe the app to the Page's webhooks; why that failed, or None."""
    try:
        graph.subscribe(page_id, token)
    except GraphError as err:
        return f"{err.reason}: {err}"
    return None
