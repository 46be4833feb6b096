"""Any replica answers: a fal webhook or a cancel that lands on a replica which does not drive
the job is stored there and wakes the driver at once (PostgreSQL's LISTEN/NOTIFY), instead of
leaving it asleep until its 5-minute webhook fallback. Two cores on one PostgreSQL database
and one simulated fal; the driver `a` waits for webhooks, which fal sends to `b`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from runnerkit import RecordingPoster, generate, kinds, paid_core

from adapters.app.core import Core
from bot.events import Cancelled, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.fal.webhooks import webhook_app
from bot.jobs.record import JobState
from bot.ports import EntryKind
from tests.storage.storage_testkit import require_postgres, throwaway_schema

pytestmark = pytest.mark.postgres
LEASE = 5.0
AT_ONCE = 15.0  # seconds; the fallback the driver would otherwise sleep is 300


@pytest.fixture
async def database() -> AsyncIterator[str]:
    await require_postgres()
    async with throwaway_schema() as url:
        yield url


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as server:
        yield server


class LateSink:
    """The receiver starts before the replica that handles it (its URL is in the settings)."""

    target: Any = None

    async def on_webhook(self, request_id: str, body: dict[str, Any], **hint: Any) -> None:
        await self.target.on_webhook(request_id, body, **hint)


@asynccontextmanager
async def receiver(fal: SimulatedFal, sink: LateSink, tmp_path: Path) -> AsyncIterator[str]:
    """fal's webhook endpoint on a local port, handing deliveries to `sink`; yields its URL."""
    from runnerkit import settings_for

    app = webhook_app(
        settings_for(tmp_path, fal_jwks_url=fal.jwks_url), sink, ssl_context=fal.ssl_context()
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def two_replicas(
    tmp_path: Path, fal: SimulatedFal, url: str
) -> AsyncIterator[tuple[Core, RecordingPoster, Core, RecordingPoster]]:
    """`a` drives (webhooks on, so it never polls) and `b` receives every fal webhook."""
    sink = LateSink()
    async with AsyncExitStack() as stack:
        public = await stack.enter_async_context(receiver(fal, sink, tmp_path))
        cores = []
        for name in ("a", "b"):
            poster = RecordingPoster()
            settings = {
                "database_url": url,
                "replica_id": name,
                "job_lease_seconds": LEASE,
                "fal_jwks_url": fal.jwks_url,
                "public_base_url": public,
            }
            core = await stack.enter_async_context(paid_core(tmp_path, fal, poster, **settings))
            await core.storage.signals.listening.wait()
            cores.append((core, poster))
        (a, shown_a), (b, shown_b) = cores
        sink.target = b.supervisor
        yield a, shown_a, b, shown_b


class Submitted:
    """Chained in front of a core's job observer: set once a job reaches SUBMITTED (with
    webhooks nothing is shown while a job waits in fal's queue, so the poster cannot tell)."""

    def __init__(self, core: Core) -> None:
        self.inner, self.event = core.services.jobs.observer, asyncio.Event()
        core.services.jobs.observer = self

    def job_changed(self, job: Any, before: Any) -> None:
        self.inner.job_changed(job, before)
        if job.state is JobState.SUBMITTED:
            self.event.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_webhook_landing_on_another_replica_wakes_the_driver_at_once(
    tmp_path, fal, database
):
    async with two_replicas(tmp_path, fal, database) as (a, shown_a, b, shown_b):
        job_id = await generate(a)
        ending = await asyncio.wait_for(shown_a.ending(job_id), AT_ONCE)
        assert isinstance(ending, Succeeded)
        await a.supervisor.wait(job_id)
        job = await a.storage.jobs.get(job_id)
        assert job is not None and job.state is JobState.DELIVERED
        assert job.fal_ended_at is not None  # b stored what fal told it
        assert await kinds(a, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
        assert [d.status for d in fal.webhook_deliveries] == [200]
        assert fal.status_requests == 0 and fal.stream_requests == 0  # a never looked itself
        assert b.supervisor.driving == 0
    assert shown_b.events == [] and [j for j, _ in shown_a.deliveries] == [job_id]


async def test_a_cancel_on_another_replica_ends_the_drivers_follow_at_once(tmp_path, fal, database):
    async with two_replicas(tmp_path, fal, database) as (a, _, b, _):
        fal.pause()
        submitted = Submitted(a)
        job_id = await generate(a)
        await asyncio.wait_for(submitted.event.wait(), AT_ONCE)
        assert isinstance(await b.supervisor.cancel(job_id), Cancelled)  # still queued at fal
        await asyncio.wait_for(a.supervisor.wait(job_id), AT_ONCE)  # a's follower woke, ended
        assert a.supervisor.driving == 0 and b.supervisor.driving == 0
        job = await a.storage.jobs.get(job_id)
        assert job is not None and job.state is JobState.CANCELLED
        assert await kinds(a, job_id) == [EntryKind.HOLD, EntryKind.RELEASE]
        assert fal.stream_requests == 0  # (b's cancel asked fal's status; a never looked)


async def test_a_job_taken_over_after_its_webhook_was_stored_does_not_wait_for_another(
    tmp_path, fal, database
):
    async with two_replicas(tmp_path, fal, database) as (a, _, b, shown_b):
        fal.pause()
        submitted = Submitted(a)
        job_id = await generate(a)
        await asyncio.wait_for(submitted.event.wait(), AT_ONCE)
        await a.supervisor.close(hand_back=False)  # a crashes: its lease stays live
        fal.resume()
        await fal.webhook_deliveries.wait_for(1, AT_ONCE)  # on b, which may not drive it
        stored = await b.storage.jobs.get(job_id)
        assert stored is not None and stored.fal_ended_at is not None
        assert b.supervisor.driving == 0
        await b.storage.leases.hand_back(owner="a")  # as if a's lease ran out
        assert await b.supervisor.take_over() == [job_id]
        ending = await asyncio.wait_for(shown_b.ending(job_id), AT_ONCE)  # not after 300 s
        assert isinstance(ending, Succeeded)
        await b.supervisor.wait(job_id)
        assert await kinds(b, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
        assert fal.status_requests == 0 and fal.stream_requests == 0
