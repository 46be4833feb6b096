"""Fixtures for the budget-policy tests (helpers live in policykit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from policykit import Clock, PolicyKit, RecordingRunner

from bot.budget import Budgets, CapPolicy
from bot.money import Money
from bot.settings import Settings
from commands import Commands
from commands.context import Services
from storage import open_storage


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[PolicyKit]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    clock = Clock()
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    policy = CapPolicy(Money.usd("1"), "day", ZoneInfo("UTC"), Money.usd("5"))
    runner = RecordingRunner()
    budgets = Budgets(storage.ledger, policy, clock, store=storage.policy)
    services = Services(
        settings=settings, jobs=storage.jobs, ledger=storage.ledger, budgets=budgets,
        runner=runner, clock=clock, simulated=False,
    )  # fmt: skip
    try:
        yield PolicyKit(Commands(services), services, runner, clock)
    finally:
        await storage.close()
