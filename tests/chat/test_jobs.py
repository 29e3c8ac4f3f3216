"""The leased-job runner (chat.jobs): claim what is due, do it, record how it went, with one
retry policy; on a table of its own, so that nothing of a channel is in the way."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, Engine, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from chat.db import make_engine, session_factory
from chat.jobs import JITTER, Failure, LeasedJobs, RetryPolicy
from chat.models import UtcDateTime
from engine.ports import ManualClock

POLICY = RetryPolicy(first=10.0, cap=60.0, attempts=4)
LEASE = timedelta(minutes=5)


def no_jitter() -> float:
    return 0.0


def full_jitter() -> float:
    return 1.0


class ChoresBase(DeclarativeBase):
    """A schema of the tests' own."""


class Chore(ChoresBase):
    """A job row: waiting until `due_at`, taken until `lease_until`, then done or failed."""

    __tablename__ = "chores"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(200))


@dataclass(frozen=True, slots=True)
class Taken:
    chore_id: int
    attempt: int


class WorkerDied(Exception):
    """Stands for a worker process killed while doing a chore."""


@dataclass
class Chores:
    """A job over `chores`; the remote side answers from `answers`, then with "ok"."""

    sessions: sessionmaker[Session]
    now: Callable[[], datetime]
    answers: list[str | Failure | WorkerDied] = field(default_factory=list)
    done_ids: list[int] = field(default_factory=list)
    pause: Callable[[], None] = lambda: None  # called while the claim holds its rows
    table = Chore
    lease = LEASE
    interrupted: Callable[[Session, Chore], None] | None = None

    def due(self, now: datetime) -> ColumnElement[bool]:
        return (Chore.state == "waiting") & (Chore.due_at <= now)

    def lapsed(self, now: datetime) -> ColumnElement[bool]:
        return (Chore.state == "taken") & (Chore.lease_until <= now)

    def order(self) -> tuple[Any, ...]:
        return (Chore.due_at, Chore.id)

    def take(self, session: Session, chore: Chore, now: datetime, until: datetime) -> Taken:
        self.pause()
        chore.state, chore.lease_until = "taken", until
        chore.attempts += 1
        return Taken(chore.id, chore.attempts)

    def do(self, taken: Taken) -> str | Failure:
        answer = self.answers.pop(0) if self.answers else "ok"
        if isinstance(answer, WorkerDied):
            raise answer
        if answer == "ok":
            self.done_ids.append(taken.chore_id)
        return answer

    def done(self, session: Session, chore: Chore, taken: Taken, result: str) -> None:
        chore.state, chore.lease_until = "done", None

    def failed(
        self, session: Session, chore: Chore, taken: Taken, failure: Failure, again: datetime | None
    ) -> None:
        chore.error, chore.lease_until = failure.error, None
        if again is None:
            chore.state = "failed"
        else:
            chore.state, chore.due_at = "waiting", again


@pytest.fixture
def database(db_url: str) -> Iterator[Engine]:
    """The tests' table, through chat.db's engine (on SQLite: BEGIN IMMEDIATE)."""
    engine = make_engine(db_url)
    ChoresBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def chores(database: Engine, clock: ManualClock) -> Chores:
    return Chores(session_factory(database), lambda: datetime.fromtimestamp(clock.now(), UTC))


def add(chores: Chores, count: int = 1, in_seconds: float = 0.0) -> list[int]:
    """Chores due `in_seconds` from now; their ids."""
    at = chores.now() + timedelta(seconds=in_seconds)
    with chores.sessions.begin() as session:
        rows = [Chore(due_at=at) for _ in range(count)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def chore(chores: Chores, chore_id: int) -> Chore:
    with chores.sessions() as session:
        found = session.get(Chore, chore_id)
        assert found is not None
        return found


def test_a_due_chore_is_claimed_done_and_recorded_once(chores: Chores) -> None:
    (now,) = add(chores)
    (later,) = add(chores, in_seconds=30)
    runner = LeasedJobs(chores)
    assert runner.run_once(limit=10) == 1
    assert runner.run_once(limit=10) == 0
    assert chores.done_ids == [now]
    assert (chore(chores, now).state, chore(chores, later).state) == ("done", "waiting")


def test_a_round_takes_at_most_its_limit_oldest_first(chores: Chores) -> None:
    ids = add(chores, 3)
    assert LeasedJobs(chores).run_once(limit=2) == 2
    assert chores.done_ids == ids[:2]


def test_only_takes_the_one_row(chores: Chores) -> None:
    _, second = add(chores, 2)
    assert LeasedJobs(chores).run_once(limit=10, only=second) == 1
    assert chores.done_ids == [second]


@pytest.mark.parametrize(("chance", "share"), [(no_jitter, 0.0), (full_jitter, JITTER)])
def test_a_failure_is_tried_again_at_the_policys_time(
    chores: Chores, clock: ManualClock, chance: Callable[[], float], share: float
) -> None:
    (chore_id,) = add(chores)
    chores.answers = [Failure("busy", POLICY), Failure("busy", POLICY)]
    runner = LeasedJobs(chores, chance=chance)
    for wait in (10.0, 20.0):  # the first failure waits `first`, the second twice as long
        runner.run_once(limit=10)
        waiting = chore(chores, chore_id)
        assert (waiting.state, waiting.error) == ("waiting", "busy")
        assert waiting.due_at == chores.now() + timedelta(seconds=wait * (1 + share))
        clock.advance(wait * (1 + share) - 1)
        assert runner.run_once(limit=10) == 0
        clock.advance(1)
    assert runner.run_once(limit=10) == 1
    assert chore(chores, chore_id).state == "done"


def test_the_remote_sides_retry_after_is_honoured(chores: Chores) -> None:
    (chore_id,) = add(chores)
    chores.answers = [Failure("throttled", POLICY, told=600.0)]  # past the policy's cap
    LeasedJobs(chores, chance=full_jitter).run_once(limit=10)
    assert chore(chores, chore_id).due_at == chores.now() + timedelta(seconds=600 * (1 + JITTER))


def test_a_chore_fails_for_good_after_its_last_attempt_or_a_permanent_failure(
    chores: Chores, clock: ManualClock
) -> None:
    retried, permanent = add(chores, 2)
    chores.answers = [Failure("busy", POLICY), Failure("refused", None)]
    runner = LeasedJobs(chores, chance=no_jitter)
    runner.run_once(limit=10)
    assert (chore(chores, permanent).state, chore(chores, permanent).error) == ("failed", "refused")
    chores.answers = [Failure("busy", POLICY)] * 3
    for _ in range(3):
        clock.advance(60)
        runner.run_once(limit=10)
    failed = chore(chores, retried)
    assert (failed.state, failed.attempts) == ("failed", POLICY.attempts)


def test_retries_and_the_last_failure_are_logged_by_the_jobs_own_logger(
    chores: Chores, caplog: pytest.LogCaptureFixture
) -> None:
    retried, permanent = add(chores, 2)
    chores.answers = [Failure("busy", POLICY), Failure("refused", None)]
    with caplog.at_level(logging.INFO, logger=__name__):
        LeasedJobs(chores, chance=no_jitter).run_once(limit=10)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (__name__, "INFO", f"Chore {retried}: busy; trying again in 10 s"),
        (__name__, "WARNING", f"Chore {permanent} failed for good: refused"),
    ]


def test_a_chore_whose_lease_lapsed_is_claimed_again(chores: Chores, clock: ManualClock) -> None:
    (chore_id,) = add(chores)
    chores.answers = [WorkerDied()]
    with pytest.raises(WorkerDied):
        LeasedJobs(chores).run_once(limit=10)
    clock.advance(LEASE.total_seconds() - 1)
    assert LeasedJobs(chores).run_once(limit=10) == 0  # still held by the dead worker
    clock.advance(1)
    assert LeasedJobs(chores).run_once(limit=10) == 1
    done = chore(chores, chore_id)
    assert (done.state, done.attempts, chores.done_ids) == ("done", 2, [chore_id])


def test_a_job_done_at_most_once_settles_a_lapsed_chore_instead(
    chores: Chores, clock: ManualClock
) -> None:
    def unconfirmed(session: Session, chore: Chore) -> None:
        chore.state, chore.error = "failed", "unconfirmed"

    chores.interrupted = unconfirmed
    (chore_id,) = add(chores)
    chores.answers = [WorkerDied()]
    with pytest.raises(WorkerDied):
        LeasedJobs(chores).run_once(limit=10)
    clock.advance(LEASE.total_seconds())
    assert LeasedJobs(chores).run_once(limit=10) == 1  # settled, not done again
    settled = chore(chores, chore_id)
    assert (settled.state, settled.error, settled.attempts) == ("failed", "unconfirmed", 1)
    assert chores.done_ids == []


def test_a_chore_deleted_while_it_was_done_is_not_recorded(chores: Chores) -> None:
    (chore_id,) = add(chores)

    def deleted_meanwhile(taken: Taken) -> str:
        with chores.sessions.begin() as session:
            session.delete(session.get(Chore, taken.chore_id))
        return "ok"

    chores.do = deleted_meanwhile  # type: ignore[method-assign]
    assert LeasedJobs(chores).run_once(limit=10) == 1
    with chores.sessions() as session:
        assert session.get(Chore, chore_id) is None


def test_two_workers_claiming_at_once_never_take_the_same_chore(
    database: Engine, chores: Chores, clock: ManualClock
) -> None:
    """One worker stops inside its claim, holding its rows; another claims meanwhile. On
    PostgreSQL it skips the locked rows and goes on at once; on SQLite it waits for the write
    lock, then finds them taken. Either way each chore is done once."""
    ids = add(chores, 4)
    inside, go_on = threading.Event(), threading.Event()

    def hold_the_claim() -> None:
        inside.set()
        assert go_on.wait(timeout=30)

    first = Chores(chores.sessions, chores.now, pause=hold_the_claim)
    other = Chores(session_factory(database), chores.now)  # a session of its own
    holding = threading.Thread(target=LeasedJobs(first).run_once, args=(2,))
    holding.start()
    assert inside.wait(timeout=30)
    claiming = threading.Thread(target=LeasedJobs(other).run_once, args=(10,))
    claiming.start()
    if database.dialect.name == "postgresql":
        claiming.join(timeout=30)  # SKIP LOCKED: no waiting for the first worker's rows
        assert not claiming.is_alive()
        assert other.done_ids == ids[2:]
    go_on.set()
    holding.join(timeout=30)
    claiming.join(timeout=30)
    assert sorted(first.done_ids + other.done_ids) == ids
    assert set(first.done_ids).isdisjoint(other.done_ids)
    assert first.done_ids == ids[:2]


@given(
    failures=st.integers(min_value=1, max_value=5_000),
    chance=st.floats(min_value=0.0, max_value=1.0),
)
def test_a_wait_grows_from_first_to_the_cap_with_at_most_a_fifth_more(
    failures: int, chance: float
) -> None:
    policy = RetryPolicy(first=2.0, cap=300.0)
    plain = min(300.0, 2.0 * 2.0 ** (min(failures, 60) - 1))
    wait = policy.wait(failures, chance=lambda: chance)
    assert plain <= wait <= plain * (1 + JITTER)
    assert wait <= 300.0 * (1 + JITTER)


def test_the_wait_grows_by_the_policys_factor() -> None:
    policy = RetryPolicy(first=45.0, growth=4.0, cap=3600.0, attempts=5)
    waits = [policy.wait(n, chance=no_jitter) for n in range(1, 6)]
    assert waits == [45.0, 180.0, 720.0, 2880.0, 3600.0]
    assert not policy.exhausted(4)
    assert policy.exhausted(5)
    assert not RetryPolicy(first=1.0, cap=1.0).exhausted(10_000)  # no limit: keeps trying
