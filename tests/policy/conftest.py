"""Fixtures for the budget-policy tests (helpers live in policykit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from policykit import Clock, PolicyKit, RecordingPoster, RecordingRunner

from bot.model import Platform
from bot.settings import Settings
from commands import Commands
from storage import open_storage
from tests.services import services_on
from tests.storage.storage_testkit import require_postgres, throwaway_schema


@asynccontextmanager
async def kit_on(url: str, data_dir: Path) -> AsyncIterator[PolicyKit]:
    """A core on the database at `url`, $1 a day per user, a recording runner and poster."""
    storage = await open_storage(url)
    clock = Clock()
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    runner = RecordingRunner()
    services = services_on(storage, settings, runner, clock)
    poster = RecordingPoster()
    services.posters[Platform.DISCORD] = poster
    try:
        yield PolicyKit(Commands(services), services, runner, clock, storage, poster)
    finally:
        await storage.close()


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[PolicyKit]:
    async with kit_on(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path) as kit:
        yield kit


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_kit(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PolicyKit]:
    """The same kit on SQLite and on PostgreSQL (skipped when unreachable, as in storage)."""
    if request.param == "sqlite":
        async with kit_on(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path) as kit:
            yield kit
        return
    await require_postgres()
    async with throwaway_schema() as url, kit_on(url, tmp_path) as kit:
        yield kit
