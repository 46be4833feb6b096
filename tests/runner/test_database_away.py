"""The database unreachable for a while (a TCP proxy between the bot and PostgreSQL, cut and
restored): commands answer "try again in a minute" and hold nothing; a job in flight is let go
before its lease could run out (no second driver is possible) and resumed from its record when
the database is back, delivered once with one hold and one capture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from runnerkit import ALICE, PLACE, SHEET, SMALL, RecordingPoster, generate, kinds, paid_core

from adapters.app.sweeps import take_over_forever
from bot.errors import DATABASE_AWAY
from bot.events import Queued, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.model import Attachment, Invocation
from bot.ports import EntryKind
from tests.fakes.tcp_proxy import TcpProxy
from tests.storage.storage_testkit import proxied_schema, require_postgres

pytestmark = pytest.mark.postgres
LEASE = 2.0
WAIT = 20.0


@pytest.fixture
async def proxied() -> AsyncIterator[tuple[str, TcpProxy]]:
    await require_postgres()
    async with proxied_schema() as reached:
        yield reached


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as server:
        yield server


def generate_invocation(seed: int) -> Invocation:
    options = {**SMALL, "seed": seed}
    return Invocation("generate", ALICE, PLACE, options, Attachment.from_path(SHEET))


async def test_commands_say_try_again_in_a_minute_and_hold_nothing(tmp_path, fal, proxied):
    url, proxy = proxied
    poster = RecordingPoster()
    async with paid_core(
        tmp_path, fal, poster, database_url=url, replica_id="a", job_lease_seconds=LEASE
    ) as core:
        await proxy.cut()
        for invocation in (generate_invocation(1), Invocation("budget", ALICE, PLACE, {})):
            reply = await asyncio.wait_for(core.commands.dispatch(invocation), WAIT)
            assert reply.refused and reply.text == DATABASE_AWAY
        assert core.supervisor.driving == 0 and fal.submissions == []
        await proxy.restore()
        job_id = await generate(core, seed=2)  # back: the next command works
        assert isinstance(await asyncio.wait_for(poster.ending(job_id), WAIT), Succeeded)
        await core.supervisor.wait(job_id)
        entries = await core.storage.ledger.entries(scope=ALICE.scope_key)
        assert {entry.ref for entry in entries} == {job_id}  # the refused one held nothing


async def test_a_job_in_flight_is_let_go_then_resumed_once_the_database_is_back(
    tmp_path, fal, proxied
):
    url, proxy = proxied
    poster = RecordingPoster()
    async with paid_core(
        tmp_path, fal, poster, database_url=url, replica_id="a", job_lease_seconds=LEASE
    ) as core:
        fal.pause()
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Queued)
        await proxy.cut()
        # Let go within two thirds of a lease (plus a renewal's turn): before the database
        # could give the job to anyone else.
        await asyncio.wait_for(core.supervisor.wait(job_id), LEASE * 2)
        assert core.supervisor.driving == 0
        await proxy.restore()
        takeovers = asyncio.create_task(
            take_over_forever(core.supervisor.take_over, interval=LEASE / 2)
        )
        try:
            fal.resume()
            assert isinstance(await asyncio.wait_for(poster.ending(job_id), WAIT), Succeeded)
        finally:
            takeovers.cancel()
            await asyncio.gather(takeovers, return_exceptions=True)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job is not None and job.state is JobState.DELIVERED
        assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
        assert len(fal.submissions) == 1  # resumed by its request id, never sent again
        assert [j for j, _ in poster.deliveries] == [job_id]
