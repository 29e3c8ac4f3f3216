"""Settings come from the environment; a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import Settings, SettingsError


def test_defaults_run_everything_embedded() -> None:
    settings = Settings.from_env({})
    assert (settings.redis_url, settings.database_url, settings.smtp) == (None, None, None)
    assert settings.data_dir == Path("var")


def test_smtp_settings_are_read_with_their_port_by_security() -> None:
    smtp = Settings.from_env(
        {
            "PARLEY_SMTP_HOST": "mail.example.com",
            "PARLEY_SMTP_SECURITY": "ssl",
            "PARLEY_SMTP_USER": "bot",
        }
    ).smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.security, smtp.user) == (
        "mail.example.com",
        465,
        "ssl",
        "bot",
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PARLEY_SHARDS": "0"}, "PARLEY_SHARDS"),
        ({"PARLEY_SHARDS": "many"}, "PARLEY_SHARDS"),
        ({"PARLEY_SMTP_HOST": "h", "PARLEY_SMTP_SECURITY": "tls"}, "PARLEY_SMTP_SECURITY"),
        ({"PARLEY_SMTP_HOST": "h", "PARLEY_SMTP_PORT": "-1"}, "PARLEY_SMTP_PORT"),
        ({"PARLEY_LOG_LEVEL": "loud"}, "PARLEY_LOG_LEVEL"),
        ({"PARLEY_LOG_FORMAT": "xml"}, "PARLEY_LOG_FORMAT"),
        ({"PARLEY_RATE_WIDGET_START": "lots"}, "PARLEY_RATE_WIDGET_START"),
        ({"PARLEY_PROXIES": "one"}, "PARLEY_PROXIES"),
        ({"PARLEY_MAX_BODY_BYTES": "0"}, "PARLEY_MAX_BODY_BYTES"),
        ({"PARLEY_KEPT_STATES": "-1"}, "PARLEY_KEPT_STATES"),
        ({"PARLEY_REDIS_WAIT_REPLICAS": "-1"}, "PARLEY_REDIS_WAIT_REPLICAS"),
        ({"REDIS_URL": "redis+cluster://10.0.0.1"}, "REDIS_URL"),
        ({"REDIS_URL": "redis+cluster://10.0.0.1:6379;10.0.0.2:6379"}, "REDIS_URL"),
    ],
)
def test_a_bad_setting_names_its_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_processes_may_keep_no_visitor_states_in_memory() -> None:
    assert Settings.from_env({"PARLEY_KEPT_STATES": "0"}).kept_states == 0


def test_a_redis_cluster_is_named_by_its_nodes_and_may_wait_for_replicas() -> None:
    url = "redis+cluster://parley:secret@10.0.0.1:6379,10.0.0.2:6379"
    settings = Settings.from_env({"REDIS_URL": url, "PARLEY_REDIS_WAIT_REPLICAS": "1"})
    assert (settings.redis_url, settings.redis_wait_replicas) == (url, 1)
    assert Settings.from_env({}).redis_wait_replicas == 0


def test_log_settings_are_read_in_any_case() -> None:
    settings = Settings.from_env({"PARLEY_LOG_LEVEL": "debug", "PARLEY_LOG_FORMAT": "JSON"})
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")


def test_rate_limits_are_set_per_rule_or_turned_off() -> None:
    rules = Settings.from_env(
        {"PARLEY_RATE_WIDGET_START": "5/second", "PARLEY_RATE_WEBHOOK": "OFF"}
    ).rate_rules
    assert (rules.widget_start, rules.webhook) == ("5/second", None)
    assert rules.auth_failures == "10/minute"  # the others keep their defaults
