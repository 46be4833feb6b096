"""The core's services on real storage, as every kit builds them: $1 a day per user, at most
$5 a request, UTC; the kit's own runner and clock."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.budget.budgets import Budgets, CapPolicy
from bot.money import Money
from bot.settings import Settings
from commands.context import JobRunner, Services
from storage import Storage
from tests.clocks import Clock

DOLLAR_A_DAY = CapPolicy(Money.usd("1"), "day", ZoneInfo("UTC"), Money.usd("5"))


def services_on(storage: Storage, settings: Settings, runner: JobRunner, clock: Clock) -> Services:
    """Real commands' services on `storage`, budgeted by `DOLLAR_A_DAY`."""
    budgets = Budgets(storage.ledger, DOLLAR_A_DAY, clock, store=storage.policy)
    return Services(
        settings=settings,
        jobs=storage.jobs,
        ledger=storage.ledger,
        budgets=budgets,
        runner=runner,
        clock=clock,
        simulated=False,
        saved_sheets=storage.saved_sheets,
    )
