"""Ledger admission throughput: `contenders` tasks holding at once through the real
`Budgets.admit` (per-user daily cap, one team scope: every hold contends for the same lock),
on one opened storage, as one bot process serves a team."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from adapters.app.core import cap_policy
from bench.procstats import cpu_seconds
from bench.wiring import now, percentile
from bot.budget.budgets import Budgets
from bot.money import Money
from bot.settings import Settings
from storage import open_storage

SCOPE = "console:bench"
AMOUNT = Money(1_000_000)  # $0.001: the daily cap never refuses in this run


async def run(params: dict[str, Any]) -> dict[str, Any]:
    contenders, each = int(params["contenders"]), int(params["holds_each"])
    storage = await open_storage(params["url"])
    try:
        policy = cap_policy(Settings(_env_file=None))  # type: ignore[call-arg]
        budgets = Budgets(storage.ledger, policy, lambda: datetime.now(UTC), store=storage.policy)
        latencies: list[float] = []

        async def contender(number: int, rounds: int, tag: str) -> None:
            for n in range(rounds):
                start = now()
                await budgets.admit(
                    job_id=f"{tag}-{number}-{n}", scope=SCOPE, user_id=f"user-{number}",
                    cost=AMOUNT,
                )  # fmt: skip
                if tag == "hold":
                    latencies.append(now() - start)

        await asyncio.gather(*(contender(c, 2, "warm") for c in range(contenders)))
        started, cpu_before = now(), cpu_seconds()
        await asyncio.gather(*(contender(c, each, "hold") for c in range(contenders)))
        elapsed, cpu = now() - started, cpu_seconds() - cpu_before
    finally:
        await storage.close()
    total = contenders * each
    return {
        "contenders": contenders,
        "holds": total,
        "seconds": elapsed,
        "holds_per_s": total / elapsed,
        "cpu_ms_per_hold": 1000 * cpu / total,
        "p50_ms": 1000 * (percentile(latencies, 0.5) or 0),
        "p99_ms": 1000 * (percentile(latencies, 0.99) or 0),
    }
