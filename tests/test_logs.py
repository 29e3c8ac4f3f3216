"""Log records as operators read them: one line each, with the request and visitor ids."""

from __future__ import annotations

import json
import logging

import pytest

import logs


def _format(fmt: str, record: logging.LogRecord) -> str:
    config = logs.dict_config("INFO", fmt)
    formatter = config["formatters"]["parley"]["()"]()
    logs.ContextFilter().filter(record)
    return str(formatter.format(record))


def _record(message: str = "sync %s waits", *args: object) -> logging.LogRecord:
    record = logging.LogRecord("channels.sync", logging.INFO, __file__, 1, message, args, None)
    record.created = 1_796_241_600.25  # 2026-12-02T20:00:00.250Z
    record.msecs = 250
    return record


def test_a_text_line_has_time_level_logger_and_the_ids_of_the_moment() -> None:
    token = logs.REQUEST_ID.set("req-1")
    try:
        with logs.visitor("v-9"):
            line = _format("text", _record("sync %s waits", 7))
    finally:
        logs.REQUEST_ID.reset(token)
    assert (
        line
        == "2026-12-02T20:00:00.250Z INFO channels.sync request=req-1 visitor=v-9: sync 7 waits"
    )


def test_a_text_line_without_context_names_none() -> None:
    assert _format("text", _record("idle")) == "2026-12-02T20:00:00.250Z INFO channels.sync: idle"


def test_json_lines_carry_the_same_facts() -> None:
    with logs.visitor("v-9"):
        entry = json.loads(_format("json", _record("sync %s waits", 7)))
    assert entry == {
        "time": "2026-12-02T20:00:00.250Z",
        "level": "INFO",
        "logger": "channels.sync",
        "message": "sync 7 waits",
        "visitor_id": "v-9",
    }


def test_configure_sends_records_at_the_level_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    try:
        logs.configure("WARNING", "text")
        logging.getLogger("chat.bridge").info("hidden")
        logging.getLogger("chat.bridge").warning("flow %s: email not sent", "win-back")
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        logging.captureWarnings(False)
    err = capsys.readouterr().err
    assert "hidden" not in err
    assert err.endswith("WARNING chat.bridge: flow win-back: email not sent\n")
