"""Admission under concurrency: many tasks, and several OS processes, racing for one cap."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from storage_race_worker import hold_concurrently, hold_in_process, hold_takes_in_process
from storage_testkit import T0

from bot.money import Money
from bot.ports import EntryKind, Limit
from storage import Storage, open_storage

SCOPE = "discord:race"
AMOUNT = 5
ROOM_FOR = 77  # the cap admits exactly this many holds of AMOUNT
CAP = Limit("the team pool", SCOPE, None, Money(AMOUNT * ROOM_FOR + AMOUNT - 1), None, None)


async def assert_exactly_the_room_was_held(storage: Storage, admitted: int) -> None:
    assert admitted == ROOM_FOR
    holds = [e for e in await storage.ledger.entries(scope=SCOPE) if e.kind is EntryKind.HOLD]
    assert len(holds) == ROOM_FOR
    usage = await storage.ledger.usage(scope=SCOPE, user_id=None, since=None)
    assert usage.held == Money(AMOUNT * ROOM_FOR) and usage.held <= CAP.limit


async def test_200_concurrent_holds_never_overdraw_one_cap(storage: Storage):
    job_ids = [f"job-{n}" for n in range(200)]
    admitted = await hold_concurrently(storage.url, job_ids, AMOUNT, CAP)
    await assert_exactly_the_room_was_held(storage, admitted)


async def test_concurrent_holds_of_one_job_write_one_hold(storage: Storage):
    outcomes = await asyncio.gather(
        *(
            storage.ledger.hold(
                job_id="same", scope=SCOPE, user_id="u", amount=Money(3), limits=[CAP], at=T0
            )
            for _ in range(50)
        )
    )
    assert sum(not o.replayed for o in outcomes) == 1
    assert all(o.admitted for o in outcomes)
    assert [e.kind for e in await storage.ledger.entries(scope=SCOPE)] == [EntryKind.HOLD]


async def test_four_processes_starting_together_never_overdraw_one_cap(storage_url: str):
    # The processes also race to migrate the fresh database, as replicas starting together do.
    batches = [[f"p{p}-job-{n}" for n in range(50)] for p in range(4)]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        counts = await asyncio.wait_for(
            asyncio.gather(
                *(
                    loop.run_in_executor(pool, hold_in_process, storage_url, batch, AMOUNT, CAP)
                    for batch in batches
                )
            ),
            timeout=60,
        )
    storage = await open_storage(storage_url)
    try:
        await assert_exactly_the_room_was_held(storage, sum(counts))
    finally:
        await storage.close()


async def test_four_processes_racing_groups_of_takes_hold_whole_groups_within_the_cap(
    storage_url: str,
):
    # Room for 25 groups of three takes (75 holds of AMOUNT, with 2 more holds' room unused).
    batches = [[f"p{p}-group-{n}" for n in range(20)] for p in range(4)]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        counts = await asyncio.wait_for(
            asyncio.gather(
                *(
                    loop.run_in_executor(pool, hold_takes_in_process, storage_url, b, AMOUNT, CAP)
                    for b in batches
                )
            ),
            timeout=60,
        )
    storage = await open_storage(storage_url)
    try:
        assert sum(counts) == 75
        holds = [
            e.ref for e in await storage.ledger.entries(scope=SCOPE) if e.kind is EntryKind.HOLD
        ]
        groups = {ref.rsplit("-", 1)[0] for ref in holds}
        assert len(holds) == 75 and all(
            {f"{group}-{take}" for take in (1, 2, 3)} <= set(holds) for group in groups
        )
        usage = await storage.ledger.usage(scope=SCOPE, user_id=None, since=None)
        assert usage.held == Money(AMOUNT * 75) and usage.held <= CAP.limit
    finally:
        await storage.close()
