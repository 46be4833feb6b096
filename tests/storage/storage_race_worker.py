"""Run in a spawned process by the race tests: open storage, fire holds concurrently."""

from __future__ import annotations

import asyncio

from storage_testkit import T0

from bot.money import Money
from bot.ports import Limit
from storage import open_storage


async def hold_concurrently(url: str, job_ids: list[str], amount: int, cap: Limit) -> int:
    """Hold every job at once against `cap`; returns how many were admitted."""
    storage = await open_storage(url)
    try:
        outcomes = await asyncio.gather(
            *(
                storage.ledger.hold(
                    job_id=job_id,
                    scope=cap.scope,
                    user_id=f"user-{index % 7}",
                    amount=Money(amount),
                    limits=[cap],
                    at=T0,
                )
                for index, job_id in enumerate(job_ids)
            )
        )
    finally:
        await storage.close()
    return sum(outcome.admitted and not outcome.replayed for outcome in outcomes)


def hold_in_process(url: str, job_ids: list[str], amount: int, cap: Limit) -> int:
    """The spawned process's entry point."""
    return asyncio.run(hold_concurrently(url, job_ids, amount, cap))


async def hold_takes_concurrently(url: str, groups: list[str], amount: int, cap: Limit) -> int:
    """Hold every group of three takes at once against `cap`; returns the takes admitted."""
    storage = await open_storage(url)
    try:
        outcomes = await asyncio.gather(
            *(
                storage.ledger.hold_many(
                    holds=[(f"{group}-{take}", Money(amount)) for take in (1, 2, 3)],
                    scope=cap.scope,
                    user_id=f"user-{index % 7}",
                    limits=[cap],
                    at=T0,
                )
                for index, group in enumerate(groups)
            )
        )
    finally:
        await storage.close()
    return 3 * sum(outcome.admitted and not outcome.replayed for outcome in outcomes)


def hold_takes_in_process(url: str, groups: list[str], amount: int, cap: Limit) -> int:
    """The spawned process's entry point for groups of takes."""
    return asyncio.run(hold_takes_concurrently(url, groups, amount, cap))
