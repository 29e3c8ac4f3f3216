"""Parley's settings: one typed object read from the environment.

`PARLEY_`-prefixed variables plus `REDIS_URL` and `DATABASE_URL`. With `REDIS_URL` unset,
Parley runs its own redis-server under the data folder; with `DATABASE_URL` unset, the chat
data is a SQLite file there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from channels.email import SmtpSettings
from channels.messenger.settings import MessengerSettings
from engine.keys import DEFAULT_SHARDS
from logs import FORMATS, LEVELS


class SettingsError(ValueError):
    """A setting that cannot be used; names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Where Parley keeps its state and finds its flows."""

    redis_url: str | None = None
    database_url: str | None = None  # unset: a SQLite file in the data folder
    data_dir: Path = Path("var")
    flows_dir: Path = Path("flows")
    shards: int = DEFAULT_SHARDS
    owner_email: str = "owner@example.com"  # the first start creates this owner
    smtp: SmtpSettings | None = None  # unset: no email goes out
    email_templates: Path = Path("emails")
    messenger: MessengerSettings = field(default_factory=MessengerSettings)
    public_url: str = "http://127.0.0.1:8000"  # where links in emails point
    log_level: str = "INFO"
    log_format: str = "text"  # or "json", one object per line for log shippers

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from environment variables (os.environ by default)."""
        env = os.environ if env is None else env
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("PARLEY_DATA_DIR", "var")),
            flows_dir=Path(env.get("PARLEY_FLOWS_DIR", "flows")),
            shards=_positive(env, "PARLEY_SHARDS", DEFAULT_SHARDS),
            owner_email=env.get("PARLEY_OWNER_EMAIL", "owner@example.com"),
            smtp=_smtp(env),
            email_templates=Path(env.get("PARLEY_EMAIL_TEMPLATES", "emails")),
            messenger=_messenger(env),
            public_url=env.get("PARLEY_PUBLIC_URL", "http://127.0.0.1:8000"),
            log_level=_choice(env, "PARLEY_LOG_LEVEL", LEVELS, "INFO", str.upper),
            log_format=_choice(env, "PARLEY_LOG_FORMAT", FORMATS, "text", str.lower),
        )


def _messenger(env: Mapping[str, str]) -> MessengerSettings:
    try:
        return MessengerSettings.from_env(env)
    except ValueError as err:
        raise SettingsError(str(err)) from err


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a whole number above 0, not {raw!r}")
    return int(raw)


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
        port=_positive(env, "PARLEY_SMTP_PORT", 465 if security == "ssl" else 587),
        security=security,  # type: ignore[arg-type]  # checked just above
        user=env.get("PARLEY_SMTP_USER") or None,
        password=env.get("PARLEY_SMTP_PASSWORD") or None,
        sender=env.get("PARLEY_SMTP_SENDER", "parley@example.com"),
    )
