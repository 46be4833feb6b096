"""Fixtures for the core tests (helpers live in corekit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from corekit import Clock, CoreKit, RecordingRunner

from bot.budget.budgets import Budgets, CapPolicy
from bot.money import Money
from bot.settings import Settings
from commands import Commands
from commands.context import Services
from storage import open_storage


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[CoreKit]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    clock = Clock()
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    policy = CapPolicy(Money.usd("1"), "day", ZoneInfo("UTC"), Money.usd("5"))
    runner = RecordingRunner()
    services = Services(
        settings=settings, jobs=storage.jobs, ledger=storage.ledger,
        budgets=Budgets(storage.ledger, policy, clock, store=storage.policy), runner=runner,
        clock=clock, simulated=False,
    )  # fmt: skip
    try:
        yield CoreKit(Commands(services), services, runner, clock)
    finally:
        await storage.close()
