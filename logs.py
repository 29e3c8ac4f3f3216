"""Logging for Parley's processes: one line per record, or one JSON object per line.

`configure()` sets the root logger from the settings' level and format; `dict_config()` is
the same set-up as a `logging.config` dict, which gunicorn takes for its own loggers. The
request id (web) and visitor id (commands, Messenger items) are context variables that every
record carries while they are set.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.config
import re
import secrets
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
VISITOR_ID: ContextVar[str | None] = ContextVar("visitor_id", default=None)
_SANE = re.compile(r"[A-Za-z0-9._:-]+")  # nothing that could forge a log line
_CONTEXT = (("request_id", REQUEST_ID), ("visitor_id", VISITOR_ID))


@contextlib.contextmanager
def visitor(visitor_id: str | None) -> Iterator[None]:
    """Records logged inside the block name this visitor."""
    token = VISITOR_ID.set(visitor_id)
    try:
        yield
    finally:
        VISITOR_ID.reset(token)


class ContextFilter(logging.Filter):
    """Copies the request and visitor ids of the moment onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in _CONTEXT:
            if getattr(record, name, None) is None:
                setattr(record, name, variable.get())
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-02T19:55:21.123Z WARNING chat.bridge request=… visitor=…: message`."""

    def format(self, record: logging.LogRecord) -> str:
        context = "".join(
            f" {name.removesuffix('_id')}={value}"
            for name, _ in _CONTEXT
            if (value := getattr(record, name, None)) is not None
        )
        line = f"{_timestamp(record)} {record.levelname} {record.name}{context}: "
        line += record.getMessage()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, _ in _CONTEXT:
            if (value := getattr(record, name, None)) is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def request_id(offered: str | None) -> str:
    """The id of a request: the caller's X-Request-ID when it is a sane token, else a new one."""
    if offered and len(offered) <= 64 and _SANE.fullmatch(offered):
        return offered
    return secrets.token_hex(8)


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def dict_config(level: str, fmt: str) -> dict[str, Any]:
    """The logging set-up as a `logging.config.dictConfig` dict (gunicorn's loggers too)."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"parley": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "parley",
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # gunicorn's own loggers: through the same handler, not theirs
            **{
                name: {"level": level, "handlers": [], "propagate": True}
                for name in ("gunicorn.error", "gunicorn.access")
            },
            # Alembic tells of every migration context it opens (readiness opens one a call)
            "alembic.runtime.migration": {"level": "WARNING"},
        },
    }


def configure(level: str, fmt: str) -> None:
    """Send every record at `level` or above to stderr in `fmt` (text or json)."""
    logging.config.dictConfig(dict_config(level, fmt))
    logging.captureWarnings(True)
