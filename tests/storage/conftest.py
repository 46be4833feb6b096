"""Storage fixtures: every contract test runs on SQLite (a temporary file) and PostgreSQL (a
throw-away schema at LTXBOT_TEST_POSTGRES_URL; skipped when unreachable unless CI=true): the
parametrized `storage_url` of tests/conftest.py, opened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Storage, open_storage


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    """Storage opened (and migrated) on the parametrized back-end."""
    opened = await open_storage(storage_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "db" / "ltxbot.sqlite3"


@pytest.fixture
async def on_sqlite(sqlite_file: Path) -> AsyncIterator[Storage]:
    """Storage on a SQLite file (for what only SQLite's locking can show)."""
    opened = await open_storage(f"sqlite:///{sqlite_file}")
    try:
        yield opened
    finally:
        await opened.close()
