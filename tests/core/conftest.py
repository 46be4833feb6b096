"""Fixtures for the core tests (helpers live in corekit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from corekit import Clock, CoreKit, RecordingRunner

from bot.settings import Settings
from commands import Commands
from storage import open_storage
from tests.services import services_on


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[CoreKit]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    clock = Clock()
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    runner = RecordingRunner()
    services = services_on(storage, settings, runner, clock)
    try:
        yield CoreKit(Commands(services), services, runner, clock)
    finally:
        await storage.close()
