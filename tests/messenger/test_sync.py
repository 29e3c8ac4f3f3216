"""Page contact sync: the last 100 or all conversations, 20 messages each, resumable."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from channels.messenger.graph import ConversationPage, GraphClient
from channels.messenger.sync import PageSync
from channels.messenger.sync import run_to_end as sync_to_end
from chat.models import ChannelIdentity, Contact, Conversation, Message
from cli import main
from tests.messenger.shop import Shop
from tests.messenger.test_sending import GREETER, load_flow

DAY = 86400.0


def start(shop: Shop, scope: str) -> dict[str, Any]:
    found: dict[str, Any] = shop.api(
        "POST", f"/channels/messenger/pages/{shop.page.id}/syncs", {"scope": scope}, status=202
    )
    return found


def progress(shop: Shop, sync_id: int) -> dict[str, Any]:
    found: dict[str, Any] = shop.api("GET", f"/channels/messenger/syncs/{sync_id}")
    return found


def run_to_end(shop: Shop, sync_id: int, limit: int = 100) -> dict[str, Any]:
    """Let the workers run, a second of time passing between rounds, until the sync ends."""
    for _ in range(limit):
        shop.services.settle()
        found = progress(shop, sync_id)
        if found["status"] in ("done", "failed"):
            return found
        shop.advance(1)
    raise AssertionError(f"sync {sync_id} did not end: {found}")


def count(shop: Shop, what: Any) -> int:
    with shop.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(what)) or 0)


def test_recent_imports_the_100_latest_contacts_with_20_messages_each(shop: Shop) -> None:
    threads = shop.graph.seed_conversations(shop.page.id, 150, messages_each=25)
    sync = start(shop, "recent")
    assert sync["status"] == "queued"
    done = run_to_end(shop, sync["id"])
    assert {k: done[k] for k in ("status", "pages_fetched", "contacts_imported")} == {
        "status": "done",
        "pages_fetched": 1,
        "contacts_imported": 100,
    }
    assert done["messages_imported"] == 100 * 20 == count(shop, Message)
    with shop.services.sessions() as session:
        names = set(session.scalars(select(Contact.name)))
        page_replies = session.scalars(
            select(func.count()).where(Message.sender == "agent", Message.off_platform)
        ).one()
    assert names == {f"Visitor {i}" for i in range(1, 101)}
    assert page_replies == 100 * 10  # the Page's own replies, which Parley did not send
    assert len(threads) == 150


class WorkerDied(Exception):
    """Stands for a worker process killed in the middle of importing a page."""


class DiesAfterFetching(GraphClient):
    def conversations(self, *args: Any, **kwargs: Any) -> ConversationPage:
        super().conversations(*args, **kwargs)
        raise WorkerDied


def test_all_follows_every_page_and_resumes_after_a_worker_dies(shop: Shop) -> None:
    shop.graph.seed_conversations(shop.page.id, 1050, messages_each=2, spacing=10)
    shop.graph.short_pages = 4  # Meta sometimes answers a page short of the limit
    sync = start(shop, "all")
    run_to_end_pages = PageSync(shop.services.sessions, shop.services.graph(), shop.services.now)
    assert run_to_end_pages.run_once() == 1
    shop.advance(1)
    dying = DiesAfterFetching(shop.graph.url)
    with pytest.raises(WorkerDied):
        PageSync(shop.services.sessions, dying, shop.services.now).run_once()
    shop.advance(1)
    shop.services.settle()  # the dead worker's lease still holds the sync
    assert progress(shop, sync["id"])["pages_fetched"] == 1
    shop.advance(120)  # the lease runs out; another worker goes on from the cursor
    done = run_to_end(shop, sync["id"])
    assert done["status"] == "done"
    assert done["errors"] == []
    assert done["contacts_imported"] == 1050 == count(shop, Contact)
    assert done["messages_imported"] == 2100 == count(shop, Message)
    assert done["pages_fetched"] > 11  # short pages meant more than 1050 / 100


def test_a_second_sync_adds_only_what_is_new_and_keeps_known_contacts(shop: Shop) -> None:
    first = shop.graph.visitor_message(shop.page.id, text="I wrote through the webhook")
    shop.deliver()
    shop.graph.seed_conversations(shop.page.id, 3, messages_each=4)
    once = run_to_end(shop, start(shop, "all")["id"])
    twice = run_to_end(shop, start(shop, "all")["id"])
    assert once["contacts_imported"] == twice["contacts_imported"] == 4
    assert (once["messages_imported"], twice["messages_imported"]) == (12, 0)
    assert count(shop, Contact) == 4
    assert count(shop, Message) == 13
    with shop.services.sessions() as session:
        identities = session.scalars(
            select(func.count()).where(ChannelIdentity.external_id == first.sender)
        ).one()
    assert identities == 1


def test_imported_messages_start_no_flow(shop: Shop) -> None:
    load_flow(shop, GREETER)
    shop.graph.seed_conversations(shop.page.id, 5, messages_each=3)
    run_to_end(shop, start(shop, "recent")["id"])
    assert count(shop, Message) == 15
    assert shop.graph.sent == []


def test_old_threads_come_in_as_ended_and_recent_ones_as_ongoing(shop: Shop) -> None:
    shop.graph.seed_conversations(shop.page.id, 2, messages_each=2, spacing=8 * DAY)
    run_to_end(shop, start(shop, "recent")["id"])
    with shop.services.sessions() as session:
        statuses = sorted(session.scalars(select(Conversation.status)))
    assert statuses == ["ended", "ongoing"]


def test_a_throttled_sync_waits_and_goes_on(shop: Shop) -> None:
    shop.graph.seed_conversations(shop.page.id, 2, messages_each=1)
    shop.graph.fail_next("conversations", code=80006, regain_minutes=1)
    sync = start(shop, "recent")
    shop.services.settle()
    waiting = progress(shop, sync["id"])
    assert waiting["status"] == "running"
    assert "throttled" in waiting["errors"][0]
    shop.advance(30)
    shop.services.settle()
    assert progress(shop, sync["id"])["pages_fetched"] == 0
    done = run_to_end(shop, sync["id"])
    assert (done["status"], done["contacts_imported"]) == ("done", 2)


def test_all_of_1500_conversations_come_in_under_throttles_and_outages(shop: Shop) -> None:
    shop.graph.seed_conversations(shop.page.id, 1_500, messages_each=1)
    sync = start(shop, "all")
    faults: Iterator[dict[str, int]] = itertools.cycle(
        [
            {"code": 80006, "regain_minutes": 1},  # Meta says how long: one minute
            {"code": 613},  # throttled without a word on how long
            {"http_status": 500},  # an outage
            {},  # a page that goes through
        ]
    )
    begun = shop.clock.now()
    syncs = PageSync(shop.services.sessions, shop.services.graph(), shop.services.now)

    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(round(seconds, 1))
        if not shop.graph.faults:  # the last one has met its request: the next request's
            fault = next(faults)
            if fault:
                shop.graph.fail_next("conversations", **fault)  # type: ignore[arg-type]
        shop.advance(seconds)

    *_, done = sync_to_end(syncs, sync["id"], wait)
    assert (done["status"], done["contacts_imported"]) == ("done", 1_500)
    assert any("throttled" in error for error in done["errors"])
    # 15 pages, each after Meta's minute (waited 60-72 s), a throttle without word (10 s) and
    # an outage (8 s): about 22 minutes. A full minute per throttle and a backoff that grew
    # over the whole job (to 256 s) took hours.
    elapsed = shop.clock.now() - begun
    assert 15 * 60 <= elapsed < 30 * 60, (waits, done)


def test_an_expired_token_fails_the_sync_and_says_so(shop: Shop) -> None:
    shop.graph.fail_next("conversations", code=190)
    done = run_to_end(shop, start(shop, "all")["id"])
    assert done["status"] == "failed"
    assert "token_expired" in done["errors"][0]


def test_only_one_sync_runs_per_page(shop: Shop) -> None:
    assert start(shop, "all")["id"] == start(shop, "recent")["id"]


def test_the_command_line_syncs_with_a_progress_bar(
    shop: Shop, tmp_path: Path, redis_server: str
) -> None:
    shop.graph.seed_conversations(shop.page.id, 3, messages_each=2)
    settings = shop.services.settings
    env = {
        "REDIS_URL": redis_server,
        "DATABASE_URL": str(shop.services.sessions.kw["bind"].url),
        "PARLEY_DATA_DIR": str(tmp_path / "var"),
        "PARLEY_FLOWS_DIR": str(settings.flows_dir),
        "GRAPH_API_URL": shop.graph.url,
    }
    result = CliRunner().invoke(main, ["messenger", "sync", shop.page.id], env=env)
    assert result.exit_code == 0, result.output
    assert "done: 1 pages, 3 contacts, 6 messages, 0 errors" in result.output
    missing = CliRunner().invoke(main, ["messenger", "sync", "999"], env=env)
    assert missing.exit_code == 1
    assert "no Page 999 is connected" in missing.output
    elsewhere = {**env, "PARLEY_DATA_DIR": str(tmp_path / "other")}  # not the service's key
    refused = CliRunner().invoke(main, ["messenger", "sync", shop.page.id], env=elsewhere)
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: a secret was encrypted with a key")  # one line
