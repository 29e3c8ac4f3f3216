"""Messenger Page tokens are stored encrypted, readable with any key of the keyring, and
encrypted again with the newest key by `parley secrets rotate`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from chat import secrets
from chat.models import MessengerPage, Workspace
from chat.secrets import Keyring, SecretsError, new_key
from cli import main
from settings import Settings, SettingsError

TOKEN = "EAAGm0PX4ZCpsBA-page-token"
OLD, NEW = new_key(), new_key()


@pytest.fixture(autouse=True)
def keys() -> Iterator[None]:
    secrets.configure(Keyring([OLD]))
    yield
    secrets.configure(Keyring([new_key()]))


def _stored(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT access_token FROM messenger_pages")).scalar())


def _token(session: Session, page: MessengerPage) -> str:
    found = session.get(MessengerPage, page.id)
    assert found is not None
    return found.access_token


@pytest.fixture
def page(session: Session, workspace: Workspace) -> MessengerPage:
    connected = MessengerPage(
        workspace_id=workspace.id, page_id="1", name="Shop", access_token=TOKEN
    )
    session.add(connected)
    session.commit()
    return connected


def test_a_page_token_is_stored_encrypted_and_read_in_the_clear(
    engine: Engine, session: Session, page: MessengerPage
) -> None:
    stored = _stored(engine)
    assert stored.startswith("fernet:")
    assert TOKEN not in stored
    session.expire_all()
    assert _token(session, page) == TOKEN


def test_an_older_key_still_reads_and_rotating_moves_to_the_newest(
    session: Session,
    page: MessengerPage,
    db_url: str,
    redis_server: str,
    tmp_path: Path,
    cli_runner: CliRunner,
) -> None:
    secrets.configure(Keyring([NEW, OLD]))  # a new key in front, the old one kept
    session.expire_all()
    assert _token(session, page) == TOKEN
    session.commit()  # SQLite: release the write lock before the command's own session
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_server,
        "PARLEY_DATA_DIR": str(tmp_path / "var"),
        "PARLEY_FLOWS_DIR": str(tmp_path),
        "PARLEY_SECRET_KEYS": f"{NEW},{OLD}",
    }
    rotated = cli_runner.invoke(main, ["secrets", "rotate"], env=env)
    assert rotated.output == "1 Page token(s) encrypted with the newest key\n", rotated.output
    secrets.configure(Keyring([NEW]))  # the old key dropped
    session.expire_all()
    assert _token(session, page) == TOKEN


def test_a_token_under_a_key_no_longer_held_is_a_clear_error(
    session: Session, page: MessengerPage
) -> None:
    secrets.configure(Keyring([NEW]))
    session.expire_all()
    with pytest.raises(SecretsError, match="not in PARLEY_SECRET_KEYS"):
        session.get(MessengerPage, page.id)


def test_a_token_stored_before_encryption_reads_as_it_was(
    engine: Engine, session: Session, page: MessengerPage
) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE messenger_pages SET access_token = :t"), {"t": TOKEN})
    session.expire_all()
    assert _token(session, page) == TOKEN


def test_a_key_that_is_not_a_fernet_key_names_its_setting() -> None:
    with pytest.raises(SettingsError, match="PARLEY_SECRET_KEYS"):
        Settings.from_env({"PARLEY_SECRET_KEYS": "hunter2"})
    assert Settings.from_env({"PARLEY_SECRET_KEYS": f"{NEW}, {OLD}"}).secret_keys == (NEW, OLD)


def test_new_key_prints_a_key_the_settings_take(cli_runner: CliRunner) -> None:
    printed = cli_runner.invoke(main, ["secrets", "new-key"]).output.strip()
    assert Settings.from_env({"PARLEY_SECRET_KEYS": printed}).secret_keys == (printed,)
