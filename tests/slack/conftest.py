"""Fixtures: the fake Slack Web API, a real SlackAdapter in HTTP mode on port 0, and a core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

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
    services_for,
)

from adapters.slack import SlackAdapter
from bot.budget.budgets import Budgets, CapPolicy
from bot.model import Platform
from bot.money import Money
from bot.settings import Settings
from commands import Commands
from commands.context import Services
from storage import open_storage
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackAPI]:
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as fake:
        fake.add_user("U1", name="Alice")
        fake.add_user("U2", name="Bob")
        fake.add_user("UADMIN", name="Root", is_admin=True)
        yield fake


@pytest.fixture
async def kit(tmp_path: Path, slack: FakeSlackAPI) -> AsyncIterator[SlackKit]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET, slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    services = services_for(settings, storage)
    runner = services.runner
    assert isinstance(runner, RecordingRunner)
    ticks, sleep = Monotonic(), GatedSleep()
    adapter = SlackAdapter(settings, Commands(services), clock=ticks, sleep=sleep,
                           host="127.0.0.1", step_wait=5)  # fmt: skip
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
async def policy_kit(tmp_path: Path, slack: FakeSlackAPI) -> AsyncIterator[SlackKit]:
    """`kit` with the budget policy stored (admin commands and approvals need it) and the
    adapter's poster in the services, as adapters.app.core.serve wires it."""
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET, slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    clock = Clock()
    policy = CapPolicy(Money.usd("1"), "day", ZoneInfo("UTC"), Money.usd("5"))
    runner = RecordingRunner()
    services = Services(
        settings=settings, jobs=storage.jobs, ledger=storage.ledger,
        budgets=Budgets(storage.ledger, policy, clock, store=storage.policy), runner=runner,
        clock=clock, simulated=False,
    )  # fmt: skip
    ticks, sleep = Monotonic(), GatedSleep()
    adapter = SlackAdapter(settings, Commands(services), clock=ticks, sleep=sleep,
                           host="127.0.0.1")  # fmt: skip
    services.posters[Platform.SLACK] = adapter.poster  # as adapters.app.core.serve does
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
