"""The `parley` command line: check, draw, simulate and test flows; run workers."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click
import redis
from redis.exceptions import RedisClusterUnreachableError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

import logs
from channels.messenger.people import find_page
from channels.messenger.sync import PageSync, run_to_end, start_sync
from chat.db import database_url, make_engine, session_factory, upgrade
from chat.members import issue_token
from chat.models import Member, MessengerPage, SyncScope
from chat.outbox import retry, set_aside
from chat.secrets import SecretsError, new_key
from chat.signin import issue_password_link
from dsl.errors import Diagnostic, FlowCheckError
from dsl.graph import dot, mermaid
from dsl.pipeline import CheckReport, FlowCompiler, action_locations
from dsl.structure import flow_schema
from engine.client import REDIS_AWAY, Client
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.metrics import Metrics, prometheus_text
from engine.ports import SystemClock
from engine.redis_server import connect
from engine.store import RedisStore
from engine.worker import collect_less_often
from flowtest.simulator import Conversation, Simulator, simulation
from flowtest.transcript import COMMAND_NAMES, TranscriptError, play, transcript_help
from server import build_services, password_url
from serving import ServeError, ServeOptions
from serving import serve as serve_until_stopped
from settings import Settings, SettingsError
from web.services import FAILURE_WAIT, Services

OUTBOX_SHOWN = 200  # characters of a set-aside event's text that `parley outbox list` shows


@click.group()
@click.version_option(package_name="parley")
def main() -> None:
    """Parley: automation flows for customer-service chat."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
def check(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check flow files (directories: every *.yaml inside) like a compiler."""
    report = FlowCompiler().check_paths(paths)
    if _settings().smtp is None:
        report = _without_smtp(report)
    if fmt == "json":
        click.echo(json.dumps([d.as_json() for d in report.diagnostics], indent=2))
    else:
        _print_report(report)
    sys.exit(1 if report.failed(strict) else 0)


def _without_smtp(report: CheckReport) -> CheckReport:
    """The report with a warning at each `email:` action: here no email would go out."""
    files = []
    for result in report.files:
        warnings = tuple(
            Diagnostic(
                location,
                "warning",
                "this flow sends email, but PARLEY_SMTP_HOST is not set here: it would not go out",
                "email-without-smtp",
                "set PARLEY_SMTP_* where Parley runs (docs/operations.md), or remove the action",
            )
            for location in action_locations(result, "email")
        )
        diagnostics = tuple(sorted(result.diagnostics + warnings, key=_position))
        files.append(dataclasses.replace(result, diagnostics=diagnostics))
    return CheckReport(tuple(files))


def _position(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.location.line, diagnostic.location.col


def _print_report(report: CheckReport) -> None:
    for result in report.files:
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.render(result.source))
    errors = sum(d.severity == "error" for d in report.diagnostics)
    warnings = len(report.diagnostics) - errors
    click.echo(
        f"checked {len(report.files)} file(s): {len(report.flows)} flow(s) ok, "
        f"{errors} error(s), {warnings} warning(s)"
    )


@main.command()
def schema() -> None:
    """Print the flow JSON Schema (for editors and the yaml-language-server)."""
    click.echo(json.dumps(flow_schema(), indent=2))


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid")
def graph(path: str, fmt: str) -> None:
    """Draw one flow as a Mermaid state diagram (or Graphviz dot)."""
    report = FlowCompiler().check_paths([path])
    if not report.flows:
        _print_report(report)
        sys.exit(1)
    (compiled,) = report.flows
    click.echo(mermaid(compiled) if fmt == "mermaid" else dot(compiled))


@main.command()
@click.argument("flow", type=click.Path(exists=True, dir_okay=False))
@click.option("--transcript", type=click.File("r"), help="Play these lines instead of asking.")
@click.option("--returning", is_flag=True, help="A returning visitor (default: new).")
@click.option("--channel", default="messenger", show_default=True)
@click.option(
    "--state",
    type=click.Choice(["hosted", "unassigned", "assigned"]),
    default="hosted",
    show_default=True,
    help="The conversation's state at the start.",
)
@click.option("--name", default="Ana", show_default=True, help="The visitor's name.")
def simulate(
    flow: str, transcript: TextIO | None, returning: bool, channel: str, state: str, name: str
) -> None:
    """Play a visitor against a flow on a virtual clock (type `help` for the commands)."""
    conversation = Conversation(
        channel=channel,
        is_new=not returning,
        contact={"name": name, "tags": []},
        hosting=state == "hosted",
        assignee="agent@example.com" if state == "assigned" else None,
    )
    try:
        with simulation([Path(flow)], conversation) as sim:
            _play_lines(sim, transcript)
            funnel = Metrics(sim.engine.store.redis).funnel(sim.engine.flows.current()[0].id)
            click.echo(json.dumps(funnel.as_json(), indent=2))
    except FlowCheckError as err:
        for diagnostic in err.diagnostics:
            click.echo(diagnostic.render())
        sys.exit(1)


def _play_lines(sim: Simulator, transcript: TextIO | None) -> None:
    interactive = transcript is None
    source = transcript if transcript is not None else sys.stdin
    if interactive:
        click.echo("Playing the visitor. Commands: " + ", ".join(COMMAND_NAMES) + "; quit.")
    for line in source:
        if line.strip() in ("quit", "exit"):
            return
        if line.strip() == "help":
            click.echo(transcript_help())
            continue
        if not interactive and line.strip():
            click.echo(f"> {line.rstrip()}")
        try:
            for out in play(sim, line):
                click.echo(out)
        except TranscriptError as err:
            click.echo(f"  ? {err}")


@main.command()
@click.argument("visitor")
def trace(visitor: str) -> None:
    """Show what flows did for a visitor, and why they did not start, newest first."""
    settings = _settings()
    with _redis(settings) as client:
        for record in RedisStore(client, Keys(shards=settings.shards)).traces(visitor):
            click.echo(f"event {record['event']}")
            for line in record["lines"]:
                details = " ".join(f"{k}={v}" for k, v in line.items() if k not in ("path", "what"))
                click.echo(f"  {line['path']}  {line['what']}  {details}".rstrip())


@main.command()
@click.option("--name", default=lambda: f"{socket.gethostname()}-{os.getpid()}")
def worker(name: str) -> None:
    """Apply events, fire timers and carry out commands until stopped (run many)."""
    settings = _logging_settings()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    services = _services_when_ready(settings, stop)
    if services is None:
        return
    collect_less_often()
    loaded = services.flows.loaded
    for finding in loaded.findings:
        click.echo(finding.headline())
    click.echo(
        f"worker {name}: {len(services.flows.current())} flow(s) of set {loaded.version}; "
        "Ctrl-C stops"
    )
    mail = services.start_mail(name, stop)
    try:
        services.work(name, stop)
    finally:
        stop.set()
        mail.join(timeout=5)
        services.close()


def _services_when_ready(settings: Settings, stop: threading.Event) -> Services | None:
    """The services, once Redis and the database answer (None if stopped before): a worker
    started while either is away waits for it, as a running one does."""
    while True:
        try:
            # a worker runs the flows `serve` published (the folder only if none are yet), so
            # one started from an older checkout never takes the others back to its flows
            return build_services(settings, SystemClock(), publish_flows=False)
        except (*REDIS_AWAY, OperationalError) as err:
            click.echo(f"waiting for Redis and the database: {_first_line(err)}", err=True)
            if stop.wait(FAILURE_WAIT):
                return None


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


@main.command(name="test", context_settings={"ignore_unknown_options": True})
@click.argument("features", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--flows", "flows_dir", default="flows", show_default=True, type=click.Path())
def test_features(features: tuple[str, ...], flows_dir: str) -> None:
    """Run Gherkin feature files against your flows with Parley's step library."""
    # Imported here: it brings pytest, which no other command needs.
    from flowtest.runner import run_features  # noqa: PLC0415

    sys.exit(run_features([Path(f) for f in features], Path(flows_dir)))


@contextlib.contextmanager
def _redis(settings: Settings) -> Iterator[Client]:
    try:
        client, server = connect(settings.redis_url, settings.data_dir.resolve())
    except RedisClusterUnreachableError as err:
        raise click.ClickException(f"no node of the Redis Cluster answers: {err}") from err
    try:
        yield client
    finally:
        if server is not None:
            server.stop()


@main.command()
@click.argument("flow_id")
@click.option("--day", "days", multiple=True, help="A day (YYYY-MM-DD); repeat for a range.")
@click.option("--version", default=None, help="One version's figures (default: all).")
@click.option("--visitors", is_flag=True, help="Also list the first page of visitors.")
def funnel(flow_id: str, days: tuple[str, ...], version: str | None, visitors: bool) -> None:
    """Show a flow's funnel: triggers, triggered/engaged/completed visitors, steps."""
    settings = _settings()
    with _redis(settings) as client:
        metrics = Metrics(client, Keys(shards=settings.shards))
        figures = metrics.funnel(flow_id, list(days) or None, version).as_json()
        if visitors:
            figures["visitors"] = metrics.drill_down(flow_id)[0]
        click.echo(json.dumps(figures, indent=2))


@main.command(name="metrics")
def prometheus() -> None:
    """Print every loaded flow's funnel in Prometheus' text format."""
    settings = _settings()
    with _redis(settings) as client:
        keys = Keys(shards=settings.shards)
        flows = FlowRegistry(client, keys)
        flows.start([settings.flows_dir], publish=False)
        metrics = Metrics(client, keys)
        click.echo(prometheus_text([metrics.funnel(f.id) for f in flows.current()]), nl=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="PARLEY_HOST")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), envvar="PARLEY_PORT"
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="PARLEY_WEB_WORKERS",
    help="Web server (gunicorn) processes.",
)
@click.option(
    "--threads",
    default=32,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="PARLEY_THREADS",
    help="Threads per web process: requests served at once; each open console tab holds one.",
)
@click.option(
    "--engine-workers",
    default=1,
    show_default=True,
    type=click.IntRange(0, 64),
    envvar="PARLEY_ENGINE_WORKERS",
    help="Engine workers in this process; 0 with separate `parley worker`s.",
)
def serve(host: str, port: int, workers: int, threads: int, engine_workers: int) -> None:
    """Run the web service (gunicorn) with the engine's workers; SIGTERM or Ctrl-C stops."""
    settings = _logging_settings()
    options = ServeOptions(host, port, workers, threads, engine_workers)
    try:
        status = serve_until_stopped(settings, options, click.echo)
    except ServeError as err:
        raise click.ClickException(str(err)) from err
    sys.exit(status)


@main.group()
def members() -> None:
    """Workspace members, from the server's own command line."""


@members.command(name="token")
@click.argument("email")
def member_token(email: str) -> None:
    """Issue a new API token for the member with EMAIL (an owner who lost theirs, say)."""
    with _member(email) as (session, member):
        token = issue_token(session, member)
    click.echo(f"A new API token for {member.email} ({member.role}), shown only this once:")
    click.echo(token)


@members.command(name="password-link")
@click.argument("email")
def member_password_link(email: str) -> None:
    """A one-time link for the member with EMAIL to set a new console password."""
    settings = _settings()
    with _member(email) as (session, member):
        link = issue_password_link(session, member, datetime.now(UTC))
    click.echo(f"{member.email} sets a new console password at (valid for 7 days, once):")
    click.echo(password_url(settings, link))


@contextlib.contextmanager
def _member(email: str) -> Iterator[tuple[Session, Member]]:
    """A transaction on the server's database and the member with `email` in it."""
    with _transaction() as session:
        address = email.strip().lower()  # as members are stored
        member = session.scalars(select(Member).where(Member.email == address)).first()
        if member is None:
            raise click.ClickException(f"no member has the email {email}")
        yield session, member


@contextlib.contextmanager
def _transaction() -> Iterator[Session]:
    """A transaction on the server's database, migrated first."""
    settings = _settings()
    url = database_url(settings.database_url, settings.data_dir.resolve())
    upgrade(url)
    database = make_engine(url)
    try:
        with session_factory(database).begin() as session:
            yield session
    finally:
        database.dispose()


@main.group(name="outbox")
def outbox_group() -> None:
    """Engine events the outbox relay set aside, unreadable (see docs/operations.md)."""


@outbox_group.command(name="list")
def outbox_list() -> None:
    """The set-aside events, oldest first: id, when stored, why, the stored text."""
    with _transaction() as session:
        rows = [(row.id, row.created_at, row.error, row.event) for row in set_aside(session)]
    if not rows:
        click.echo("no event is set aside")
    for number, created, error, text in rows:
        click.echo(f"{number}  {created:%Y-%m-%d %H:%M:%S} UTC  {error}")
        click.echo(f"    {text[:OUTBOX_SHOWN]}{'...' if len(text) > OUTBOX_SHOWN else ''}")


@outbox_group.command(name="retry")
@click.argument("ids", nargs=-1, type=int, required=True)
def outbox_retry(ids: tuple[int, ...]) -> None:
    """Give set-aside events with IDS back to the relay (once a fix reads them)."""
    with _transaction() as session:
        done = retry(session, ids)
    if done:
        click.echo(f"back in line for the relay: {', '.join(map(str, done))}")
    missing = sorted(set(ids) - set(done))
    if missing:
        raise click.ClickException(f"not set aside: {', '.join(map(str, missing))}")


@main.group(name="secrets")
def secrets_group() -> None:
    """The keys secrets at rest (Messenger Page tokens) are encrypted with."""


@secrets_group.command(name="new-key")
def secrets_new_key() -> None:
    """Print a new key, to put first in PARLEY_SECRET_KEYS."""
    click.echo(new_key())


@secrets_group.command(name="rotate")
def secrets_rotate() -> None:
    """Encrypt every stored secret again with the newest key (the first of PARLEY_SECRET_KEYS)."""
    services = build_services(_settings(), SystemClock())
    try:
        with services.sessions.begin() as session:
            pages = session.scalars(select(MessengerPage)).all()
            for page in pages:
                flag_modified(page, "access_token")  # written again: sealed with the newest key
    except SecretsError as err:
        raise click.ClickException(str(err)) from err
    finally:
        services.close()
    click.echo(f"{len(pages)} Page token(s) encrypted with the newest key")


@main.group()
def messenger() -> None:
    """Messenger Pages."""


@messenger.command(name="sync")
@click.argument("page_id")
@click.option("--scope", type=click.Choice(["recent", "all"]), default="recent", show_default=True)
def messenger_sync(page_id: str, scope: SyncScope) -> None:
    """Import a Page's contacts (the last 100, or all), each with their last 20 messages."""
    services = build_services(_settings(), SystemClock())
    try:
        with services.sessions.begin() as session:
            page = find_page(session, page_id)
            if page is None:
                message = f"no Page {page_id} is connected here; connect it through the API first"
                raise click.ClickException(message)
            job_id = start_sync(session, page, scope, services.now()).id
        syncs = PageSync(services.sessions, services.graph(), services.now)
        steps = run_to_end(syncs, job_id, time.sleep)
        final = None
        with click.progressbar(
            steps, label=f"Syncing Page {page_id}", item_show_func=_progress
        ) as bar:
            for progress in bar:
                final = progress
    except SecretsError as err:  # run with other keys than the service's
        raise click.ClickException(str(err)) from err
    except (OperationalError, redis.RedisError) as err:
        # beside a running service its workers go on with the sync, which is resumable
        raise click.ClickException(
            f"the database or Redis did not answer ({_first_line(err)}); a started sync goes "
            "on in the service's workers: GET /channels/messenger/syncs/{id} shows it"
        ) from err
    finally:
        services.close()
    click.echo(_progress(final))
    if final is None or final["status"] != "done":
        sys.exit(1)


def _progress(progress: dict[str, Any] | None) -> str:
    if progress is None:
        return ""
    return (
        f"{progress['status']}: {progress['pages_fetched']} pages, "
        f"{progress['contacts_imported']} contacts, {progress['messages_imported']} messages, "
        f"{len(progress['errors'])} errors"
    )


def _logging_settings() -> Settings:
    """The settings, with logging set up from them (the long-running commands)."""
    settings = _settings()
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as err:  # a bad environment variable: say which, no traceback
        raise click.ClickException(str(err)) from err
