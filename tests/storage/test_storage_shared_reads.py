"""Shared policy reads (storage.coalesce): fewer queries, never a staler answer, on every
replica."""

from __future__ import annotations

import asyncio
import uuid
from zoneinfo import ZoneInfo

import pytest
from storage_testkit import T0

from bot.budget.budgets import Budgets, CapPolicy
from bot.errors import CapReached
from bot.money import Money
from bot.ports import Cap, CapKind
from storage import open_storage
from storage.coalesce import SharedReads

SCOPE = f"discord:replicas-{uuid.uuid4().hex[:8]}"  # advisory locks span schemas


class GatedLoad:
    """A stand-in query: counts its runs and returns the value current when it *started*."""

    def __init__(self) -> None:
        self.value = 0
        self.runs = 0
        self.started = asyncio.Event()
        self.go = asyncio.Event()

    async def __call__(self, key: str) -> int:
        self.runs += 1
        seen = self.value
        self.started.set()
        await self.go.wait()
        return seen


async def test_callers_waiting_together_share_one_read():
    load = GatedLoad()
    load.go.set()
    reads = SharedReads(load)
    assert await asyncio.gather(*(reads.get("k") for _ in range(20))) == [0] * 20
    assert load.runs == 1


async def test_a_caller_arriving_during_a_read_gets_a_read_that_began_after_it():
    load = GatedLoad()
    reads = SharedReads(load)
    early = asyncio.create_task(reads.get("k"))
    await asyncio.wait_for(load.started.wait(), 5)
    load.value = 1  # committed after the first read began, before the late caller asked
    late = asyncio.create_task(reads.get("k"))
    load.go.set()
    assert await asyncio.wait_for(asyncio.gather(early, late), 5) == [0, 1]
    assert load.runs == 2


async def test_a_failed_read_fails_its_callers_and_the_next_read_runs_afresh():
    calls: list[str] = []

    async def flaky(key: str) -> str:
        calls.append(key)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return "fine"

    reads = SharedReads(flaky)
    with pytest.raises(ConnectionError):
        await reads.get("k")
    assert await reads.get("k") == "fine" and calls == ["k", "k"]


async def test_a_cap_an_admin_sets_on_one_replica_applies_to_the_next_hold_on_another(
    storage_url: str,
):
    one, two = await open_storage(storage_url), await open_storage(storage_url)
    try:
        policy = CapPolicy(Money(100), "day", ZoneInfo("UTC"))
        budgets = Budgets(one.ledger, policy, lambda: T0, store=one.policy)
        burst = await asyncio.gather(
            *(budgets.admit(job_id=f"a{n}", scope=SCOPE, user_id=f"u{n}", cost=Money(30))
              for n in range(10))
        )  # fmt: skip
        assert all(outcome.admitted for outcome in burst)
        pool = Cap(CapKind.POOL, "", Money(320), "day")
        await two.policy.set_cap(scope=SCOPE, cap=pool, actor="admin", reason="", at=T0)
        assert await budgets.admit(job_id="b0", scope=SCOPE, user_id="u0", cost=Money(20))
        with pytest.raises(CapReached, match="pool"):
            await budgets.admit(job_id="b1", scope=SCOPE, user_id="u1", cost=Money(1))
        await two.policy.clear_cap(scope=SCOPE, kind=CapKind.POOL, subject="", actor="admin",
                                   reason="", at=T0)  # fmt: skip
        assert await budgets.admit(job_id="b1", scope=SCOPE, user_id="u1", cost=Money(1))
    finally:
        await one.close()
        await two.close()


async def test_close_cancels_the_readers_and_their_callers():
    load = GatedLoad()
    reads: SharedReads[str, int] = SharedReads(load)
    caller = asyncio.create_task(reads.get("k"))
    await asyncio.wait_for(load.started.wait(), 5)
    await asyncio.wait_for(reads.close(), 5)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, 5)
    assert not reads._readers, "a reader outlived close()"
