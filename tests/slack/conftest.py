"""Fixtures: the fake Slack Web API, a real SlackAdapter in HTTP mode on port 0, and a core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from slackkit import (
    BOT_TOKEN,
    SECRET,
    Clock,
    Driver,
    GatedSleep,
    Monotonic,
    RecordingRunner,
    SlackKit,
)

from adapters.slack import SlackAdapter
from bot.model import Platform
from bot.settings import Settings
from commands import Commands
from storage import open_storage
from tests.fakes.slack_api import FakeSlackAPI
from tests.services import services_on


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackAPI]:
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as fake:
        fake.add_user("U1", name="Alice")
        fake.add_user("U2", name="Bob")
        fake.add_user("UADMIN", name="Root", is_admin=True)
        yield fake


@asynccontextmanager
async def slack_kit(
    tmp_path: Path, slack: FakeSlackAPI, *, wire_poster: bool, **adapter_options: float
) -> AsyncIterator[SlackKit]:
    """A real SlackAdapter in HTTP mode on port 0 over a core on SQLite (`wire_poster`: the
    adapter's poster in the services, as adapters.app.core.serve wires it)."""
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        slack_port=0,
    )
    runner = RecordingRunner()
    services = services_on(storage, settings, runner, Clock())
    ticks, sleep = Monotonic(), GatedSleep()
    commands = Commands(services)
    adapter = SlackAdapter(
        settings, commands, clock=ticks, sleep=sleep, host="127.0.0.1", **adapter_options
    )
    if wire_poster:
        services.posters[Platform.SLACK] = adapter.poster
    await adapter.start()
    session = aiohttp.ClientSession()
    driver = Driver(f"http://127.0.0.1:{adapter.port}/slack/events", session)
    try:
        yield SlackKit(adapter, driver, slack, services, runner, ticks, sleep)
    finally:
        sleep.release()
        await session.close()
        await adapter.close()
        await storage.close()


@pytest.fixture
async def kit(tmp_path: Path, slack: FakeSlackAPI) -> AsyncIterator[SlackKit]:
    async with slack_kit(tmp_path, slack, wire_poster=False, step_wait=5) as kit:
        yield kit


@pytest.fixture
async def policy_kit(tmp_path: Path, slack: FakeSlackAPI) -> AsyncIterator[SlackKit]:
    """`kit` with the adapter's poster in the services (approvals and the admin channel's
    alerts post through it)."""
    async with slack_kit(tmp_path, slack, wire_poster=True) as kit:
        yield kit
