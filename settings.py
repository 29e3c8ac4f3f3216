"""Parley's settings: one typed object read from the environment.

`PARLEY_`-prefixed variables plus `REDIS_URL` and `DATABASE_URL`. With `REDIS_URL` unset,
Parley runs its own redis-server under the data folder; with `DATABASE_URL` unset, the chat
data is a SQLite file there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import limits
from cryptography.fernet import Fernet

from channels.email import SmtpSettings
from channels.messenger.settings import MessengerSettings
from engine.client import CLUSTER_SCHEMES
from engine.kept import KEPT_STATES
from engine.keys import DEFAULT_SHARDS
from logs import FORMATS, LEVELS


class SettingsError(ValueError):
    """A setting that cannot be used; names the variable."""


@dataclass(frozen=True, slots=True)
class RateRules:
    """How often one address, visitor or token may do one thing (`limits` strings such as
    `30/minute`; None: not limited). Enforced by `web.rate_limits`."""

    widget_start: str | None = "30/minute"  # conversations one address starts on the widget
    widget_act: str | None = "60/minute"  # messages, clicks and forms of one widget visitor
    auth_failures: str | None = "10/minute"  # wrong API tokens and passwords from one address
    webhook: str | None = "1200/minute"  # Messenger webhook calls from one address


@dataclass(frozen=True, slots=True)
class Settings:
    """Where Parley keeps its state and finds its flows."""

    redis_url: str | None = None
    # replicas that must hold a published event or webhook item before it counts as taken
    redis_wait_replicas: int = 0
    database_url: str | None = None  # unset: a SQLite file in the data folder
    data_dir: Path = Path("var")
    flows_dir: Path = Path("flows")
    shards: int = DEFAULT_SHARDS
    kept_states: int = KEPT_STATES  # visitor states each process keeps in memory (0: none)
    owner_email: str = "owner@example.com"  # the first start creates this owner
    smtp: SmtpSettings | None = None  # unset: no email goes out
    email_templates: Path = Path("emails")
    messenger: MessengerSettings = field(default_factory=MessengerSettings)
    public_url: str = "http://127.0.0.1:8000"  # where links in emails point
    log_level: str = "INFO"
    log_format: str = "text"  # or "json", one object per line for log shippers
    max_body_bytes: int = 1_048_576  # a larger request body is refused with 413
    rate_rules: RateRules = field(default_factory=RateRules)
    proxies: int = 0  # reverse proxies in front whose X-Forwarded-For/-Proto are believed
    widget_origins: tuple[str, ...] = ()  # websites whose pages may run the widget ("*": any)
    secret_keys: tuple[str, ...] = ()  # Fernet keys, newest first; unset: the data folder's own

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from environment variables (os.environ by default)."""
        env = os.environ if env is None else env
        return cls(
            redis_url=_redis_url(env),
            redis_wait_replicas=_whole(env, "PARLEY_REDIS_WAIT_REPLICAS", 0, minimum=0),
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("PARLEY_DATA_DIR", "var")),
            flows_dir=Path(env.get("PARLEY_FLOWS_DIR", "flows")),
            shards=_whole(env, "PARLEY_SHARDS", DEFAULT_SHARDS),
            kept_states=_whole(env, "PARLEY_KEPT_STATES", KEPT_STATES, minimum=0),
            owner_email=env.get("PARLEY_OWNER_EMAIL", "owner@example.com"),
            smtp=_smtp(env),
            email_templates=Path(env.get("PARLEY_EMAIL_TEMPLATES", "emails")),
            messenger=_messenger(env),
            public_url=env.get("PARLEY_PUBLIC_URL", "http://127.0.0.1:8000"),
            log_level=_choice(env, "PARLEY_LOG_LEVEL", LEVELS, "INFO", str.upper),
            log_format=_choice(env, "PARLEY_LOG_FORMAT", FORMATS, "text", str.lower),
            max_body_bytes=_whole(env, "PARLEY_MAX_BODY_BYTES", 1_048_576),
            rate_rules=_rate_rules(env),
            proxies=_whole(env, "PARLEY_PROXIES", 0, minimum=0),
            widget_origins=_origins(env, "PARLEY_WIDGET_ORIGINS"),
            secret_keys=_secret_keys(env, "PARLEY_SECRET_KEYS"),
        )


def _redis_url(env: Mapping[str, str]) -> str | None:
    url = env.get("REDIS_URL") or None
    if url is not None and url.partition("://")[0] in CLUSTER_SCHEMES:
        hosts = url.partition("://")[2].split("/")[0].split("?")[0].rpartition("@")[2]
        if not all(_HOST_PORT.fullmatch(host) for host in hosts.split(",")):
            raise SettingsError(
                "REDIS_URL names a Redis Cluster by its nodes, host:port separated by commas "
                "(redis+cluster://10.0.0.1:6379,10.0.0.2:6379)"
            )
    return url


_HOST_PORT = re.compile(r"[^\s,:/@]+:\d{1,5}")


def _messenger(env: Mapping[str, str]) -> MessengerSettings:
    try:
        return MessengerSettings.from_env(env)
    except ValueError as err:
        raise SettingsError(str(err)) from err


def _whole(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        least = "above 0" if minimum == 1 else f"from {minimum}"
        raise SettingsError(f"{name} must be a whole number {least}, not {raw!r}")
    return int(raw)


def _listed(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated setting's items."""
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _secret_keys(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    keys = _listed(env, name)
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError as err:
            message = f"{name} lists keys made by `parley secrets new-key`, separated by commas"
            raise SettingsError(message) from err
    return keys


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    found = tuple(origin.rstrip("/") for origin in _listed(env, name))
    for origin in found:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise SettingsError(
                f"{name} lists origins such as https://shop.example (scheme, host and "
                f"port only), or *; not {origin!r}"
            )
    return found


_ORIGIN = re.compile(r"https?://[^/\s:]+(:\d{1,5})?")


def _rate_rules(env: Mapping[str, str]) -> RateRules:
    rules: dict[str, str | None] = {}
    for rule in fields(RateRules):
        name = f"PARLEY_RATE_{rule.name.upper()}"
        raw = env.get(name)
        if raw is None:
            continue
        if raw.strip().lower() == "off":
            rules[rule.name] = None
            continue
        try:
            limits.parse(raw)
        except ValueError as err:
            raise SettingsError(
                f"{name} must be a rate such as 30/minute, or off, not {raw!r}"
            ) from err
        rules[rule.name] = raw.strip()
    return RateRules(**rules)


def _choice(
    env: Mapping[str, str],
    name: str,
    choices: tuple[str, ...],
    default: str,
    normal: Callable[[str], str],
) -> str:
    value = normal(env.get(name, default))
    if value not in choices:
        raise SettingsError(f"{name} is one of {', '.join(choices)}, not {env[name]!r}")
    return value


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get("PARLEY_SMTP_HOST")
    if not host:
        return None
    security = _choice(env, "PARLEY_SMTP_SECURITY", ("starttls", "ssl", "none"), "starttls", str)
    return SmtpSettings(
        host=host,
        port=_whole(env, "PARLEY_SMTP_PORT", 465 if security == "ssl" else 587),
        security=security,  # type: ignore[arg-type]  # checked just above
        user=env.get("PARLEY_SMTP_USER") or None,
        password=env.get("PARLEY_SMTP_PASSWORD") or None,
        sender=env.get("PARLEY_SMTP_SENDER", "parley@example.com"),
    )
