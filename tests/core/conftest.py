"""Fixtures for the core tests (helpers live in corekit.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from corekit import Clock, CoreKit, RecordingRunner

from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.client_setup import trust_bundle
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


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment of a terminal whose bot talks to a quick local simulated fal."""
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal:
        bundle = trust_bundle(fal.ca_file)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
        yield {
            **clean, "LTXBOT_DATA_DIR": str(tmp_path / "data"), "LTXBOT_BACKEND": "fal",
            "FAL_KEY": "test-key-not-real", "LTXBOT_FAL_QUEUE_URL": fal.queue_url,
            "LTXBOT_FAL_REST_URL": fal.rest_url, "LTXBOT_FAL_CDN_URL": fal.cdn_url,
            "SSL_CERT_FILE": str(bundle),
        }  # fmt: skip
        bundle.unlink()
