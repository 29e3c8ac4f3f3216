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
jittered backoff over the failures in a row (channels.backoff). Imported
messages do not reach the engine: they start no flow and notify nobody.

Imported history goes into the contact's ongoing conversation on the Page when there is
one; otherwise into a new conversation, ongoing if the visitor wrote within Messenger's
7-day reply window (agents can still answer) and ended otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, sessionmaker

from channels.backoff import retry_wait
from channels.messenger.graph import ConversationPage, GraphClient, GraphError
from channels.messenger.people import find_message, page_contact
from chat.conversations import open_conversation, record_message
from chat.models import MessengerPage, MessengerSync, SyncScope
from chat.reply_window import HUMAN_AGENT_WINDOW

PAGE_SIZE = 100
MESSAGES_PER_CONTACT = 20  # the Conversations API details only a thread's 20 latest
REQUEST_INTERVAL = timedelta(seconds=0.5)  # about 2 requests a second per Page
LEASE = timedelta(minutes=2)  # a worker silent this long is taken for dead
ERRORS_KEPT = 20
# After a failure without word from Meta on how long to wait (see channels.backoff): a
# throttle waits from 5 s, an outage from 2 s, doubling with each failure in a row, to 5 min.
THROTTLE_BASE, TRANSIENT_BASE, RETRY_CAP = 5.0, 2.0, 300.0
log = logging.getLogger(__name__)


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
    job_id: int
    page_id: str
    token: str
    cursor: str | None
    limit: int  # threads to ask for: a full page, or what `recent` still lacks of its 100


@dataclass
class PageSync:
    """Advances due syncs by one request each."""

    sessions: sessionmaker[Session]
    graph: GraphClient
    now: Callable[[], datetime]

    def run_once(self, limit: int = 4, only: int | None = None) -> int:
        """Fetch and import one page for each of up to `limit` due syncs (or sync `only`);
        how many ran."""
        claimed = self._claim(limit, only)
        for job in claimed:
            self._advance(job)
        return len(claimed)

    def _claim(self, limit: int, only: int | None) -> list[_Claimed]:
        now = self.now()
        due = (
            select(MessengerSync, MessengerPage)
            .join(MessengerPage, MessengerSync.page_id == MessengerPage.id)
            .where(
                MessengerSync.status.in_(("queued", "running")),
                MessengerSync.next_request_at <= now,
                or_(MessengerSync.lease_until.is_(None), MessengerSync.lease_until <= now),
            )
            .where(MessengerSync.id == only if only is not None else true())
            .order_by(MessengerSync.next_request_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=MessengerSync)
        )
        with self.sessions.begin() as session:
            claimed = []
            for job, page in session.execute(due).all():
                job.status, job.lease_until = "running", now + LEASE
                wanted = PAGE_SIZE if job.scope == "all" else PAGE_SIZE - job.contacts_imported
                claimed.append(
                    _Claimed(job.id, page.page_id, page.access_token, job.cursor, max(1, wanted))
                )
        return claimed

    def _advance(self, claimed: _Claimed) -> None:
        try:
            fetched = self.graph.conversations(
                claimed.page_id,
                claimed.token,
                after=claimed.cursor,
                limit=claimed.limit,
                messages=MESSAGES_PER_CONTACT,
            )
        except GraphError as err:
            self._failed(claimed, err)
            return
        with self.sessions.begin() as session:
            job = session.get(MessengerSync, claimed.job_id)
            page = session.get(MessengerPage, job.page_id) if job else None
            if job is None or page is None or job.cursor != claimed.cursor:
                return  # deleted meanwhile, or another worker got here first
            for thread in fetched.conversations:
                job.messages_imported += _import(session, page, thread, self.now())
                job.contacts_imported += 1
            self._moved_on(job, fetched)

    def _moved_on(self, job: MessengerSync, fetched: ConversationPage) -> None:
        job.pages_fetched += 1
        job.cursor, job.lease_until, job.failures = fetched.after, None, 0
        job.next_request_at = self.now() + REQUEST_INTERVAL
        enough = job.scope == "recent" and job.contacts_imported >= PAGE_SIZE
        if enough or fetched.after is None:  # Meta's short pages are not the end
            job.status, job.finished_at = "done", self.now()

    def _failed(self, claimed: _Claimed, err: GraphError) -> None:
        with self.sessions.begin() as session:
            job = session.get(MessengerSync, claimed.job_id)
            if job is None:
                return
            job.errors.append(f"{self.now().isoformat()} {err.reason}: {err}")
            del job.errors[:-ERRORS_KEPT]
            job.lease_until = None
            if err.throttled or err.transient:
                job.failures += 1
                base = THROTTLE_BASE if err.throttled else TRANSIENT_BASE
                wait = retry_wait(job.failures, told=err.retry_after, base=base, cap=RETRY_CAP)
                job.next_request_at = self.now() + timedelta(seconds=wait)
                log.info("sync %s of Page %s waits %.0f s: %s", job.id, claimed.page_id, wait, err)
            else:
                job.status, job.finished_at = "failed", self.now()


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
