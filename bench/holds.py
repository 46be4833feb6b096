"""Ledger admission throughput: `contenders` tasks holding at once through the real
`Budgets.admit` (per-user daily cap, one team scope: every hold contends for the same lock),
on one opened storage, as one bot process serves a team. With `prefill` the period first holds
that many entries (closed holds of a nano-dollar, the contenders' and others', bulk-inserted):
admission must not slow down as the period's history grows."""

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
from storage import Storage, open_storage
from storage.engine import single_statement_reads
from storage.tables import ledger_entries

SCOPE = "console:bench"
AMOUNT = Money(1_000_000)  # $0.001: the daily cap never refuses in this run
CHUNK = 5_000  # rows per bulk insert


async def prefill(storage: Storage, entries: int, contenders: int) -> None:
    """`entries` entries effective now (in the period the holds count): hold + capture pairs
    of a nano-dollar, spread over the contenders and as many other users."""
    at = datetime.now(UTC)
    rows = []
    for n in range(entries // 2):
        user = f"user-{n % (2 * contenders)}"
        for kind in ("hold", "capture"):
            rows.append({"kind": kind, "scope": SCOPE, "user_id": user, "ref": f"old-{n}",
                         "amount": 1, "effective_at": at, "created_at": at})  # fmt: skip
    for start in range(0, len(rows), CHUNK):
        async with storage.engine.begin() as connection:
            await connection.execute(ledger_entries.insert(), rows[start : start + CHUNK])
    if storage.engine.dialect.name == "sqlite":
        async with single_statement_reads(storage.engine).connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


async def run(params: dict[str, Any]) -> dict[str, Any]:
    contenders, each = int(params["contenders"]), int(params["holds_each"])
    storage = await open_storage(params["url"])
    try:
        filled = int(params.get("prefill", 0))
        if filled:
            await prefill(storage, filled, contenders)
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
        "prefilled": int(params.get("prefill", 0)),
        "holds": total,
        "seconds": elapsed,
        "holds_per_s": total / elapsed,
        "cpu_ms_per_hold": 1000 * cpu / total,
        "p50_ms": 1000 * (percentile(latencies, 0.5) or 0),
        "p99_ms": 1000 * (percentile(latencies, 0.99) or 0),
    }
