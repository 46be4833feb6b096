"""Every test runs with its own per-user data directory: nothing reaches the real one.

`LTXBOT_DATA_DIR` is set for tests that build Settings without a data dir, and XDG_DATA_HOME
(where platformdirs puts the per-user directory on Linux) for subprocesses that drop every
LTXBOT_ variable, so a forgotten data dir lands in a temporary directory, never in ~/.local.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.storage.storage_testkit import require_postgres, throwaway_schema

_HOME = tempfile.TemporaryDirectory(prefix="ltxbot-tests-")


def pytest_configure(config: pytest.Config) -> None:
    home = Path(_HOME.name)
    os.environ["XDG_DATA_HOME"] = str(home / "xdg-data")
    os.environ["LTXBOT_DATA_DIR"] = str(home / "data")


def pytest_unconfigure(config: pytest.Config) -> None:
    _HOME.cleanup()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
async def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL naming an empty database of the parametrized kind (SQLite in `tmp_path`, or a
    throw-away PostgreSQL schema; skipped when unreachable unless CI=true)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'ltxbot.sqlite3'}"
        return
    await require_postgres()
    async with throwaway_schema() as url:
        yield url
