"""Page contact sync: import a Page's conversations, each with its last 20 messages.

A sync is a row (`MessengerSync`) that workers advance one Conversations API page at a time:
each page's contacts, messages and the cursor to the next page are committed together, so a
worker that dies mid-sync leaves a row another worker resumes from its cursor once the
lease has run out. Importing is idempotent: contacts are found by their PSID (the same
contact the webhook made), and messages already stored (by Messenger message id) are not
stored again. Scope `recent` takes the first page (the 100 most recently active
conversations); `all` follows the cursors to the end.

Requests keep to about 2 a second per Page (the Conversations API's limit); a throttled or
failed request is tried again later, after the wait Meta's usage headers give or else a
jittered backoff over the failures in a row (chat.jobs' retry policy: syncs are one of its
jobs, and a dead worker's sync is taken again once its lease lapses). Imported
messages do not reach the engine: they start no flow and notify nobody.

Imported history goes into the contact's ongoing conversation on the Page when there is
one; otherwise into a new conversation, ongoing if the visitor wrote within Messenger's
7-day reply window (agents can still answer) and ended otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from channels.messenger.graph import ConversationPage, GraphClient, GraphError
from channels.messenger.people import find_message, page_contact
from chat.conversations import open_conversation, record_message
from chat.jobs import Failure, LeasedJobs, RetryPolicy
from chat.models import MessengerPage, MessengerSync, SyncScope
from chat.reply_window import HUMAN_AGENT_WINDOW

PAGE_SIZE = 100
MESSAGES_PER_CONTACT = 20  # the Conversations API details only a thread's 20 latest
REQUEST_INTERVAL = timedelta(seconds=0.5)  # about 2 requests a second per Page
LEASE = timedelta(minutes=2)  # a worker silent this long is taken for dead
ERRORS_KEPT = 20
# After a failure without word from Meta on how long to wait: a throttle waits from 5 s, an
# outage from 2 s, doubling with each failure in a row (reset by a page that goes through), to
# 5 minutes; a sync keeps trying. Any other error fails it.
THROTTLED = RetryPolicy(first=5.0, cap=300.0)
TRANSIENT = RetryPolicy(first=2.0, cap=300.0)


def start_sync(
    session: Session, page: MessengerPage, scope: SyncScope, now: datetime
) -> MessengerSync:
    """A new sync of `page`, or the one already under way for it (one at a time per Page)."""
    running = session.scalars(
        select(MessengerSync).where(
            MessengerSync.page_id == page.id, MessengerSync.status.in_(("queued", "running"))
        )
    ).first()
    if running is not None:
        return running
    job = MessengerSync(
        page_id=page.id,
        scope=scope,
        status="queued",
        errors=[],
        next_request_at=now,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def sync_json(job: MessengerSync) -> dict[str, Any]:
    """A sync's progress and final state, as the API shows it."""
    return {
        "id": job.id,
        "scope": job.scope,
        "status": job.status,
        "pages_fetched": job.pages_fetched,
        "contacts_imported": job.contacts_imported,
        "messages_imported": job.messages_imported,
        "errors": list(job.errors),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@dataclass(frozen=True, slots=True)
class _Claimed:
    page_id: str
    token: str
    cursor: str | None
    limit: int  # threads to ask for: a full page, or what `recent` still lacks of its 100
    attempt: int  # 1, and one more for each failure in a row before it


@dataclass
class PageSync:
    """Advances due syncs by one request each: a job of chat.jobs' runner."""

    sessions: sessionmaker[Session]
    graph: GraphClient
    now: Callable[[], datetime]
    table = MessengerSync
    lease = LEASE
    interrupted = None  # a dead worker's sync is resumed from its cursor

    def run_once(self, limit: int = 4, only: int | None = None) -> int:
        """Fetch and import one page for each of up to `limit` due syncs (or sync `only`);
        how many ran."""
        return LeasedJobs(self).run_once(limit, only)

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Syncs under way whose next request's time has come, held by no worker."""
        return and_(_under_way(now), MessengerSync.lease_until.is_(None))

    def lapsed(self, now: datetime) -> ColumnElement[bool]:
        """Syncs whose worker went silent for a whole lease."""
        return and_(_under_way(now), MessengerSync.lease_until <= now)

    def order(self) -> tuple[InstrumentedAttribute[datetime]]:
        """The longest waiting first."""
        return (MessengerSync.next_request_at,)

    def take(
        self, session: Session, job: MessengerSync, now: datetime, until: datetime
    ) -> _Claimed:
        """Hold the sync, and read where its next request starts."""
        page = session.get(MessengerPage, job.page_id)
        assert page is not None  # a Page's syncs are deleted with it
        job.status, job.lease_until = "running", until
        wanted = PAGE_SIZE if job.scope == "all" else PAGE_SIZE - job.contacts_imported
        return _Claimed(
            page.page_id, page.access_token, job.cursor, max(1, wanted), job.failures + 1
        )

    def do(self, claimed: _Claimed) -> ConversationPage | Failure:
        """Fetch the next page of the Page's conversations."""
        try:
            return self.graph.conversations(
                claimed.page_id,
                claimed.token,
                after=claimed.cursor,
                limit=claimed.limit,
                messages=MESSAGES_PER_CONTACT,
            )
        except GraphError as err:
            retry = THROTTLED if err.throttled else TRANSIENT if err.transient else None
            return Failure(f"{err.reason}: {err}", retry, err.retry_after)

    def done(
        self, session: Session, job: MessengerSync, claimed: _Claimed, fetched: ConversationPage
    ) -> None:
        """Import the page's contacts and messages, and move the cursor on."""
        page = session.get(MessengerPage, job.page_id)
        if page is None or job.cursor != claimed.cursor:
            return  # deleted meanwhile, or another worker got here first
        for thread in fetched.conversations:
            job.messages_imported += _import(session, page, thread, self.now())
            job.contacts_imported += 1
        job.pages_fetched += 1
        job.cursor, job.lease_until, job.failures = fetched.after, None, 0
        job.next_request_at = self.now() + REQUEST_INTERVAL
        enough = job.scope == "recent" and job.contacts_imported >= PAGE_SIZE
        if enough or fetched.after is None:  # Meta's short pages are not the end
            job.status, job.finished_at = "done", self.now()

    def failed(
        self,
        session: Session,
        job: MessengerSync,
        claimed: _Claimed,
        failure: Failure,
        again: datetime | None,
    ) -> None:
        """Keep the error; wait until `again`, or end the sync failed."""
        job.errors.append(f"{self.now().isoformat()} {failure.error}")
        del job.errors[:-ERRORS_KEPT]
        job.lease_until = None
        if again is None:
            job.status, job.finished_at = "failed", self.now()
        else:
            job.failures, job.next_request_at = claimed.attempt, again


def _under_way(now: datetime) -> ColumnElement[bool]:
    return and_(
        MessengerSync.status.in_(("queued", "running")), MessengerSync.next_request_at <= now
    )


def _import(session: Session, page: MessengerPage, thread: dict[str, Any], now: datetime) -> int:
    """Store one thread's visitor and new messages; returns how many messages were new."""
    person = _visitor(thread, page.page_id)
    if person is None:
        return 0
    messages = sorted(
        ((_time(m["created_time"]), m) for m in _data(thread.get("messages"))),
        key=lambda pair: pair[0],
    )
    first = messages[0][0] if messages else now
    contact, _ = page_contact(session, page, str(person["id"]), person.get("name"), first)
    fresh = [(at, m) for at, m in messages if find_message(session, str(m["id"])) is None]
    if not fresh:
        return 0
    conversation, started = open_conversation(
        session, contact, "messenger", fresh[0][0], account=page.page_id
    )
    for at, message in fresh:
        from_page = str((message.get("from") or {}).get("id")) == page.page_id
        record_message(
            session,
            conversation,
            sender="agent" if from_page else "visitor",
            off_platform=from_page,  # a Page reply Parley did not send
            text=str(message.get("message") or ""),
            at=at,
            channel_message_id=str(message["id"]),
            history=not started,  # older than what the conversation under way holds
        )
    last_visitor = conversation.last_visitor_message_at
    if started and (last_visitor is None or now - last_visitor >= HUMAN_AGENT_WINDOW):
        conversation.status, conversation.ended_at = "ended", fresh[-1][0]
    return len(fresh)


def _visitor(thread: dict[str, Any], page_id: str) -> dict[str, Any] | None:
    for person in _data(thread.get("participants")):
        if str(person.get("id")) != page_id:
            return person
    return None


def _data(edge: object) -> list[dict[str, Any]]:
    found = edge.get("data") if isinstance(edge, dict) else None
    return [item for item in found or [] if isinstance(item, dict)]


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def run_to_end(
    syncs: PageSync, job_id: int, wait: Callable[[float], None]
) -> Iterator[dict[str, Any]]:
    """Advance one sync until it ends (the command line's way); yields its progress."""
    while True:
        syncs.run_once(only=job_id)
        with syncs.sessions() as session:
            job = session.get(MessengerSync, job_id)
            if job is None:
                return
            progress = sync_json(job)
            due = job.next_request_at
        yield progress
        if progress["status"] in ("done", "failed"):
            return
        wait(max(0.0, (due - syncs.now()).total_seconds()))
