"""Secrets at rest: what Parley must keep to act for the workspace (Messenger Page tokens) is
stored encrypted, with keys that never enter the database.

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) under the keys of
`PARLEY_SECRET_KEYS`, newest first: the first encrypts, every one of them decrypts. To rotate,
put a new key in front, restart, run `parley secrets rotate` (every secret encrypted again
with the new key), then drop the old key. Without the variable, Parley makes a key of its own
in the data folder (`secret.key`, readable by its user only) on first start: enough on one
machine; production sets the variable and keeps it apart from the database's backups.

Columns of type `Sealed` encrypt on the way in and decrypt on the way out, with the keys the
process was started with (`configure`). A value written before encryption (no `fernet:`
prefix) reads as it is and is encrypted by the next `rotate`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

PREFIX = "fernet:"
KEY_FILE = "secret.key"


class SecretsError(RuntimeError):
    """The keys cannot be used, or a secret was encrypted with a key Parley no longer has."""


class Keyring:
    """The keys secrets are encrypted with: the first encrypts, all decrypt."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretsError("no secret key: set PARLEY_SECRET_KEYS")
        try:
            self.fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as err:
            raise SecretsError(
                "PARLEY_SECRET_KEYS holds keys made by `parley secrets new-key` "
                "(32 url-safe base64-encoded bytes), separated by commas"
            ) from err

    def seal(self, plain: str) -> str:
        """`plain`, encrypted with the newest key."""
        sealed: bytes = self.fernet.encrypt(plain.encode())
        return PREFIX + sealed.decode()

    def open(self, stored: str) -> str:
        """A stored secret in the clear (one stored before encryption reads as it is)."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            plain: bytes = self.fernet.decrypt(stored.removeprefix(PREFIX).encode())
        except InvalidToken as err:
            raise SecretsError(
                "a secret was encrypted with a key that is not in PARLEY_SECRET_KEYS"
            ) from err
        return plain.decode()


def new_key() -> str:
    """A fresh key for PARLEY_SECRET_KEYS."""
    key: bytes = Fernet.generate_key()
    return key.decode()


def keys_from(setting: Sequence[str], data_dir: Path) -> list[str]:
    """The keys to use: the setting's, else the data folder's own (made on first use)."""
    if setting:
        return list(setting)
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process of this folder made it first
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(new_key() + "\n")
    return [path.read_text().strip()]


_keyring: Keyring | None = None


def configure(keyring: Keyring) -> None:
    """Use `keyring` for every Sealed column of this process."""
    global _keyring  # noqa: PLW0603  # one set of keys per process, set at start
    _keyring = keyring


def keyring() -> Keyring:
    """The process's keys."""
    if _keyring is None:
        raise SecretsError("secrets are used before the service set its keys (configure)")
    return _keyring


class Sealed(TypeDecorator[str]):
    """A text column stored encrypted (see the module's docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else keyring().open(str(value))
