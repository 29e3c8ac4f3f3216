"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from click.testing import CliRunner


@pytest.fixture
def cli_runner() -> CliRunner:
    """Runs `parley` commands in-process and captures what they print."""
    return CliRunner()


pytest_plugins = ["flowtest.plugin"]
