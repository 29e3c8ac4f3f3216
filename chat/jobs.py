"""Jobs kept as rows of the chat database, done by whichever worker claims them first.

Messenger sends, notification emails and Page syncs are such jobs. `LeasedJobs` runs one
kind of them a round at a time, the same way for all three:

1. **Claim.** In one transaction, take up to a batch of the rows that are due (and those
   whose lease lapsed, for a job done at least once), mark each taken until the end of
   its lease and read what doing it needs; commit, before any network call. On PostgreSQL
   the rows are locked `FOR UPDATE SKIP LOCKED`, so two workers claiming at once take
   different rows without waiting for each other; SQLite has one write lock, which every
   transaction takes at BEGIN (chat.db), so there one claim runs at a time and the next
   finds the rows taken.
2. **Do**, outside any transaction: the job's call to the remote side, which answers with a
   result or a `Failure`.
3. **Record**, in a transaction of its own: the job writes what the result means, or the
   failure, with the time to try again that the one retry policy gives (`RetryPolicy`), or
   for good.

A worker that dies between 1 and 3 leaves its rows taken until their lease lapses. What
happens then is each job's own guarantee: claimed again (the work may happen twice, never
be lost), or, for a job done at most once, settled by its `interrupted` without trying
again (the work may have been done; it is never done twice).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, inspect, or_, select
from sqlalchemy.orm import Session, sessionmaker

JITTER = 0.2  # the random part of every wait, as a share of it
GROWTH_LIMIT = 64  # failures past this grow the wait no more (the cap is long reached)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a job waits before trying a remote side again, and how many times it tries.

    The wait is what the remote side said to wait when it said it (a usage header's time to
    regain access); else `first` seconds, `growth` times longer with each failure in a row,
    at most `cap`. Then up to a fifth more at random, so that many jobs throttled together
    do not all come back in the same second. `attempts` is how many tries a job gets before
    it fails for good (None: as many as it takes).
    """

    first: float
    cap: float
    growth: float = 2.0
    attempts: int | None = None

    def wait(
        self, failures: int, told: float | None = None, chance: Callable[[], float] = random.random
    ) -> float:
        """Seconds to wait after `failures` (1 for the first) failures in a row."""
        grown = self.first * self.growth ** min(max(0, failures - 1), GROWTH_LIMIT)
        wait = told if told else min(self.cap, grown)
        return wait * (1.0 + JITTER * chance())

    def exhausted(self, attempt: int) -> bool:
        """Whether a job whose `attempt`-th try failed has had all its tries."""
        return self.attempts is not None and attempt >= self.attempts


@dataclass(frozen=True, slots=True)
class Failure:
    """A try that failed: what went wrong, and the policy to try again by (None: for good)."""

    error: str
    retry: RetryPolicy | None
    told: float | None = None  # seconds the remote side asked to wait, when it said


class Claim(Protocol):
    """What a job read when claiming a row: all that doing it needs, and which try this is."""

    @property
    def attempt(self) -> int:
        """1 for the first try, and one more for each failure in a row before it."""
        ...


Row = TypeVar("Row")
C = TypeVar("C", bound=Claim)
Result = TypeVar("Result")


class Job(Protocol[Row, C, Result]):
    """One kind of job: which rows are due, what doing one means, what its failures mean.

    Rows hold their own state in their own columns; the job reads and writes them, the
    runner decides when."""

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The chat database."""
        ...

    @property
    def now(self) -> Callable[[], datetime]:
        """The service's clock."""
        ...

    @property
    def table(self) -> type[Row]:
        """The mapped class whose rows are the jobs."""
        ...

    @property
    def lease(self) -> timedelta:
        """How long a claimed row stays taken: longer than doing one can take."""
        ...

    def due(self, now: datetime) -> ColumnElement[bool]:
        """The rows waiting to be done whose time has come (not taken)."""
        ...

    def lapsed(self, now: datetime) -> ColumnElement[bool]:
        """The rows taken whose lease has run out: their worker died, or stalled."""
        ...

    def order(self) -> Sequence[Any]:
        """The order rows are claimed in (columns of `table`)."""
        ...

    def take(self, session: Session, row: Row, now: datetime, until: datetime) -> C | None:
        """Mark `row` taken until `until` and read what doing it needs; or settle it here
        (skipped, cancelled, failed) without a try, and answer None."""
        ...

    def do(self, claim: C) -> Result | Failure:
        """Do the job (outside any transaction): the remote side's result, or why not."""
        ...

    def done(self, session: Session, row: Row, claim: C, result: Result) -> None:
        """Record that the try went through."""
        ...

    def failed(
        self, session: Session, row: Row, claim: C, failure: Failure, again: datetime | None
    ) -> None:
        """Record the failure: to be tried again at `again`, or failed for good (None)."""
        ...

    @property
    def interrupted(self) -> Callable[[Session, Row], None] | None:
        """How a job done at most once settles a row whose lease lapsed, since its try may
        have gone through; None: the row is claimed again (done at least once)."""
        ...


@dataclass
class LeasedJobs(Generic[Row, C, Result]):
    """Runs one kind of job a round at a time: claim what is due, do it, record how it went."""

    job: Job[Row, C, Result]
    chance: Callable[[], float] = field(default=random.random)  # tests fix the jitter

    def run_once(self, limit: int, only: int | None = None) -> int:
        """Do up to `limit` due jobs (or only the row with id `only`); how many rows were
        claimed or settled."""
        claimed, settled = self._claim(limit, only)
        for key, claim in claimed:
            self._record(key, claim, self.job.do(claim))
        return len(claimed) + settled

    def _claim(self, limit: int, only: int | None) -> tuple[list[tuple[Any, C]], int]:
        job, now = self.job, self.job.now()
        settle = job.interrupted
        ready = job.due(now) if settle else or_(job.due(now), job.lapsed(now))
        due = select(job.table).where(ready).order_by(*job.order()).limit(limit)
        if only is not None:
            due = due.where(inspect(job.table).primary_key[0] == only)
        # PostgreSQL: a claim running beside this one skips the rows it locks. SQLite renders
        # no FOR UPDATE; its write lock, taken at BEGIN (chat.db), makes the claims take turns.
        due = due.with_for_update(skip_locked=True)
        claimed, settled = [], 0
        with job.sessions.begin() as session:
            if settle is not None:
                settled += self._settle_lapsed(session, now, settle)
            for row in session.scalars(due).all():
                claim = job.take(session, row, now, now + job.lease)
                if claim is None:
                    settled += 1
                else:
                    claimed.append((inspect(row).identity, claim))
        return claimed, settled

    def _settle_lapsed(
        self, session: Session, now: datetime, settle: Callable[[Session, Row], None]
    ) -> int:
        lapsed = select(self.job.table).where(self.job.lapsed(now))
        rows = session.scalars(lapsed.with_for_update(skip_locked=True)).all()
        for row in rows:
            settle(session, row)
        return len(rows)

    def _record(self, key: Any, claim: C, outcome: Result | Failure) -> None:
        job = self.job
        with job.sessions.begin() as session:
            row = session.get(job.table, key)
            if row is None:
                return  # deleted meanwhile
            if not isinstance(outcome, Failure):
                job.done(session, row, claim, outcome)
                return
            log = logging.getLogger(type(job).__module__)  # the job's own logger, as before
            name = f"{job.table.__name__} {key[0]}"
            policy = outcome.retry
            if policy is None or policy.exhausted(claim.attempt):
                job.failed(session, row, claim, outcome, None)
                log.warning("%s failed for good: %s", name, outcome.error)
                return
            wait = policy.wait(claim.attempt, outcome.told, self.chance)
            job.failed(session, row, claim, outcome, job.now() + timedelta(seconds=wait))
            log.info("%s: %s; trying again in %.0f s", name, outcome.error, wait)
