"""Several replicas on one PostgreSQL database, each job driven by exactly one of them: two cores
(each its own replica id, in this process) on one simulated fal. Both resuming at once split
the jobs; a replica that crashes (its tasks stopped, nothing handed back) has its jobs taken
over once the lease runs out; one that stops gracefully hands them over at once; a replica
whose lease was taken stops driving. Leases are 2 s here."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from runnerkit import RecordingPoster, generate, kinds, paid_core

from adapters.app.core import Core
from adapters.app.sweeps import take_over_forever
from bot.events import Queued, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.ports import EntryKind
from tests.storage.storage_testkit import require_postgres, throwaway_schema

pytestmark = pytest.mark.postgres
LEASE = 2.0
JOBS = 4


@pytest.fixture
async def database() -> AsyncIterator[str]:
    await require_postgres()
    async with throwaway_schema() as url:
        yield url


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as server:
        yield server


@asynccontextmanager
async def replica(
    data_dir: Path, fal: SimulatedFal, url: str, name: str
) -> AsyncIterator[tuple[Core, RecordingPoster]]:
    """A core on the shared database and data folder (the sheets' shared volume)."""
    poster = RecordingPoster()
    async with paid_core(
        data_dir, fal, poster, database_url=url, replica_id=name, job_lease_seconds=LEASE
    ) as core:
        yield core, poster


async def queued_jobs(core: Core, poster: RecordingPoster, n: int = JOBS) -> list[str]:
    """`n` jobs submitted through `core`, each waiting in fal's (paused) queue."""
    ids = [await generate(core, seed=i) for i in range(n)]
    for job_id in ids:
        await poster.wait_for_event(job_id, Queued)
    return ids


async def all_ended(poster: RecordingPoster, ids: Iterable[str], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        for job_id in ids:
            assert isinstance(await poster.ending(job_id), Succeeded)


async def delivered_once_each(core: Core, fal: SimulatedFal, ids: list[str]) -> None:
    for job_id in ids:
        job = await core.storage.jobs.get(job_id)
        assert job is not None and job.state is JobState.DELIVERED
        assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
    assert len(fal.submissions) == len(ids)  # resumed by request id, never submitted again


def shown_on(poster: RecordingPoster) -> set[str]:
    return {job_id for job_id, _ in poster.events}


def looks_since(fal: SimulatedFal, mark: int) -> Counter[str]:
    """Status requests (polls and streams) per fal request id after the first `mark`."""
    return Counter(look.request_id for look in list(fal.looks)[mark:])


async def test_two_replicas_resuming_together_drive_each_job_once(tmp_path, fal, database):
    fal.pause()
    async with replica(tmp_path, fal, database, "first") as (core, poster):
        ids = await queued_jobs(core, poster)
    mark = len(fal.looks)
    async with AsyncExitStack() as stack:
        a, shown_a = await stack.enter_async_context(replica(tmp_path, fal, database, "a"))
        b, shown_b = await stack.enter_async_context(replica(tmp_path, fal, database, "b"))
        resumed_a, resumed_b = await asyncio.gather(a.supervisor.resume(), b.supervisor.resume())
        assert sorted(resumed_a + resumed_b) == sorted(ids)  # every job, none by both
        fal.resume()
        await all_ended(shown_a, resumed_a)
        await all_ended(shown_b, resumed_b)
        await asyncio.gather(a.supervisor.wait(), b.supervisor.wait())
        await delivered_once_each(a, fal, ids)
    assert shown_on(shown_a) == set(resumed_a) and shown_on(shown_b) == set(resumed_b)
    delivered = [job_id for job_id, _ in shown_a.deliveries + shown_b.deliveries]
    assert sorted(delivered) == sorted(ids)  # one post each
    jobs = {job_id: (await a.storage.jobs.get(job_id)) for job_id in ids}
    per_request = looks_since(fal, mark)
    assert all(per_request[job.fal_request_id] == 1 for job in jobs.values()), per_request


async def test_a_crashed_replicas_jobs_are_taken_over_after_the_lease(tmp_path, fal, database):
    async with AsyncExitStack() as stack:
        a, shown_a = await stack.enter_async_context(replica(tmp_path, fal, database, "a"))
        b, shown_b = await stack.enter_async_context(replica(tmp_path, fal, database, "b"))
        fal.pause()
        ids = await queued_jobs(a, shown_a)
        await a.supervisor.close(hand_back=False)  # a crash: its tasks gone, its leases left
        assert await b.supervisor.take_over() == []  # a's leases have not run out yet
        crashed = asyncio.get_running_loop().time()
        takeovers = asyncio.create_task(
            take_over_forever(b.supervisor.take_over, interval=LEASE / 2)
        )
        try:
            fal.resume()
            await all_ended(shown_b, ids)
            took = asyncio.get_running_loop().time() - crashed
        finally:
            takeovers.cancel()
            await asyncio.gather(takeovers, return_exceptions=True)
        await b.supervisor.wait()
        await delivered_once_each(b, fal, ids)
    assert shown_a.deliveries == [] and sorted(j for j, _ in shown_b.deliveries) == sorted(ids)
    assert took < 2 * LEASE + 10  # within a lease and a half of the crash, give or take the render


async def test_a_graceful_stop_hands_its_jobs_over_at_once(tmp_path, fal, database):
    async with AsyncExitStack() as stack:
        b, shown_b = await stack.enter_async_context(replica(tmp_path, fal, database, "b"))
        async with replica(tmp_path, fal, database, "a") as (a, shown_a):
            fal.pause()
            ids = await queued_jobs(a, shown_a)
        # a closed: its leases were handed back, so nothing waits for them to run out.
        assert sorted(await b.supervisor.take_over()) == sorted(ids)
        fal.resume()
        await all_ended(shown_b, ids)
        await b.supervisor.wait()
        await delivered_once_each(b, fal, ids)
    assert shown_a.deliveries == [] and sorted(j for j, _ in shown_b.deliveries) == sorted(ids)


async def test_a_replica_whose_lease_was_taken_stops_driving_the_job(tmp_path, fal, database):
    async with AsyncExitStack() as stack:
        a, shown_a = await stack.enter_async_context(replica(tmp_path, fal, database, "a"))
        b, shown_b = await stack.enter_async_context(replica(tmp_path, fal, database, "b"))
        fal.pause()
        (job_id,) = await queued_jobs(a, shown_a, 1)
        # As if a had stalled past its lease: the lease ran out and b took the job over.
        await a.storage.leases.hand_back(owner=a.supervisor.ownership.owner)
        assert await b.supervisor.take_over() == [job_id]
        await a.supervisor.ownership.renew()  # a's next renewal finds the job is b's
        await asyncio.wait_for(a.supervisor.wait(job_id), 5)
        assert a.supervisor.driving == 0 and b.supervisor.driving == 1
        fal.resume()
        await all_ended(shown_b, [job_id])
        await b.supervisor.wait()
        await delivered_once_each(b, fal, [job_id])
    assert shown_a.deliveries == [] and [j for j, _ in shown_b.deliveries] == [job_id]


async def test_a_replica_restarted_under_its_fixed_id_takes_its_jobs_back_at_once(
    tmp_path, fal, database
):
    fal.pause()
    async with AsyncExitStack() as stack:
        b, shown_b = await stack.enter_async_context(replica(tmp_path, fal, database, "b"))
        async with replica(tmp_path, fal, database, "a") as (a, shown_a):
            ids = await queued_jobs(a, shown_a)
            await a.supervisor.close(hand_back=False)  # killed: its leases are still live
        assert await b.supervisor.take_over() == []  # not b's to take yet
        async with replica(tmp_path, fal, database, "a") as (again, shown_again):
            assert sorted(await again.supervisor.resume()) == sorted(ids)  # no wait
            fal.resume()
            await all_ended(shown_again, ids)
            await again.supervisor.wait()
            await delivered_once_each(again, fal, ids)
    assert shown_b.events == [] and sorted(j for j, _ in shown_again.deliveries) == sorted(ids)


async def test_a_webhook_landing_on_another_replica_starts_no_second_driver(
    tmp_path, fal, database
):
    async with AsyncExitStack() as stack:
        a, shown_a = await stack.enter_async_context(replica(tmp_path, fal, database, "a"))
        b, shown_b = await stack.enter_async_context(replica(tmp_path, fal, database, "b"))
        fal.pause()
        (job_id,) = await queued_jobs(a, shown_a, 1)
        job = await a.storage.jobs.get(job_id)
        assert job is not None and job.fal_request_id is not None
        fal.resume()
        await fal.wait_for_completion(job.fal_request_id)  # a webhook comes once fal is done
        await b.supervisor.on_webhook(job.fal_request_id, {"status": "OK"})
        assert b.supervisor.driving == 0  # stored and a woken (tests/runner/test_replica_wakeups)
        await all_ended(shown_a, [job_id])
        await a.supervisor.wait()
        await delivered_once_each(a, fal, [job_id])
    assert shown_b.events == [] and [j for j, _ in shown_a.deliveries] == [job_id]
