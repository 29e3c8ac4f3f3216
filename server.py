"""Parley's web service: `create_app()` builds the adapters once and wires the blueprints."""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask, Response, g, request
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import logs
from chat import secrets
from chat.changes import ChangeFeed
from chat.db import database_url, make_engine, session_factory, setup_lock, upgrade
from chat.members import create_workspace
from chat.models import Workspace
from chat.secrets import Keyring, keys_from
from chat.signin import issue_password_link
from engine.core import Engine
from engine.flows import FlowRegistry
from engine.kept import KeptStates
from engine.keys import Keys
from engine.metrics import Metrics
from engine.ports import Clock, SystemClock
from engine.redis_server import connect
from engine.store import RedisStore
from engine.worker import EventStream
from settings import Settings
from web import (
    api_docs,
    console,
    contacts,
    conversations,
    flows,
    health,
    members,
    messenger,
    metrics,
    notifications,
    openapi,
    widget,
)
from web.bodies import refuse_nul_in_request
from web.errors import register_errors
from web.prometheus import install_http_metrics
from web.services import Services


def create_app(
    config: Settings | None = None,
    clock: Clock | None = None,
    *,
    migrate: bool = True,
    publish_flows: bool = True,
) -> Flask:
    """The Flask app, with Redis, the engine and the flows wired in. With `migrate` off
    (the web processes of `parley serve`, which migrated before starting them) it builds
    without touching the database; with `publish_flows` off (those same processes: `serve`
    loaded the flows folder) it runs the flows already published instead of reloading."""
    settings = config or Settings.from_env()
    app = Flask("parley", static_folder=None)  # /static is the console's (web/static)
    app.url_map.converters["id"] = IdConverter
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep documents in their order
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # larger bodies: 413
    if settings.proxies:  # the client's address and scheme as the proxies in front saw them
        hops = settings.proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    services = build_services(
        settings, clock or SystemClock(), migrate=migrate, publish_flows=publish_flows
    )
    app.extensions["parley"] = services
    blueprints = (
        members.blueprint,
        contacts.blueprint,
        conversations.blueprint,
        flows.blueprint,
        widget.blueprint,
        messenger.webhooks,
        messenger.blueprint,
        notifications.blueprint,
        openapi.blueprint,
        api_docs.blueprint,
        health.blueprint,
        metrics.blueprint,
        console.blueprint,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    console.install_babel(app)
    install_http_metrics(app)  # first of the request hooks, so it times the others too
    app.before_request(_tag_request)
    app.after_request(_echo_request_id)
    app.teardown_request(_untag_request)
    app.before_request(refuse_nul_in_request)
    register_errors(app)
    return app


def _tag_request() -> None:
    """Every log record of this request names its id (the caller's X-Request-ID, or new)."""
    g.parley_request_id = logs.REQUEST_ID.set(logs.request_id(request.headers.get("X-Request-ID")))


def _untag_request(_error: BaseException | None) -> None:
    token = g.pop("parley_request_id", None)
    if token is not None:  # the thread serves other requests next
        logs.REQUEST_ID.reset(token)


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = logs.REQUEST_ID.get() or ""
    return response


class IdConverter(IntegerConverter):
    """Path ids: whole numbers of at most 16 digits (every id Parley gives is below 2**53);
    one that names no row, however large, is simply not found (404). A `max` here would make
    a larger id fall through to the path's other methods: a 405 instead."""

    regex = r"\d{1,16}"


def build_services(
    settings: Settings, clock: Clock, *, migrate: bool = True, publish_flows: bool = True
) -> Services:
    """Connect to (or start) Redis, load the flows and build the engine; bring the database
    up to the newest migration unless told not to. The flows folder is reloaded for every
    process (`FlowRegistry.start`), or with `publish_flows` off the published flows run and
    the folder is read only if none are. Neither Redis nor the database need answer for
    the rest: a web process that starts while either is away serves 503s until it is back,
    rather than failing to boot."""
    url = database_url(settings.database_url, settings.data_dir.resolve())
    secrets.configure(Keyring(keys_from(settings.secret_keys, settings.data_dir.resolve())))
    if migrate:
        upgrade(url)  # the schema is always the newest migration's
    client, embedded = connect(settings.redis_url, settings.data_dir.resolve())
    keys = Keys(shards=settings.shards)
    registry = FlowRegistry(client, keys, clock=clock.now)
    registry.start([settings.flows_dir], publish=publish_flows)
    kept = KeptStates(settings.kept_states)
    engine = Engine(RedisStore(client, keys), registry, clock, kept=kept)
    sessions = session_factory(make_engine(url))
    changes = ChangeFeed(client)
    changes.watch(sessions)  # every process that writes announces it to the live pages
    return Services(
        settings=settings,
        redis=client,
        embedded_redis=embedded,
        flows=registry,
        engine=engine,
        metrics=Metrics(client, keys),
        events=EventStream(client, keys, replicas=settings.redis_wait_replicas),
        sessions=sessions,
        changes=changes,
    )


class FirstStart(NamedTuple):
    """What the first start shows the owner once: their API token and password link."""

    token: str
    password_link: str


def first_start(services: Services) -> FirstStart | None:
    """On an empty database, create the workspace and its owner; their credentials, once."""
    with services.sessions.begin() as session:
        setup_lock(session, "first-start")  # several servers starting at once create one owner
        if session.scalars(select(Workspace.id)).first() is not None:
            return None
        _, owner, token = create_workspace(
            session, "Parley", services.settings.owner_email, "Owner"
        )
        link = issue_password_link(session, owner, services.now())
    return FirstStart(token, password_url(services.settings, link))


def password_url(settings: Settings, link: str) -> str:
    """The address of a one-time password link, on the service's public URL."""
    return f"{settings.public_url.rstrip('/')}/password/{link}"
