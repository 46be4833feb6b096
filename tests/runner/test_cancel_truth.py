"""What the cancel command says is what the ledger did: "released" only once the hold is
released, and while fal renders, the hold stays (shown by `budget` as in flight)."""

from __future__ import annotations

import asyncio

import pytest
from runnerkit import ALICE, PLACE, RecordingPoster, generate, kinds, paid_core

from bot.events import Queued, Running
from bot.fal.simulated import SimulatedFal
from bot.model import Invocation
from bot.money import Money
from bot.ports import EntryKind
from bot.pricing import quote

HOLD = Money(quote(256, 160, 9).cost.nanos)


async def said(core, command: str, **options: object) -> str:
    reply = await core.commands.dispatch(Invocation(command, ALICE, PLACE, options))
    return reply.text + "".join(f"\n{name}: {value}" for name, value in reply.fields)


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=60, queue_seconds=0.05) as server:
        yield server


async def test_a_cancel_while_queued_says_released_once_the_hold_is(tmp_path, fal):
    fal.pause()
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Queued)
        assert f"{HOLD} in flight" in await said(core, "budget")
        assert (
            await said(core, "cancel", job=job_id) == f"Cancelled job `{job_id}`; {HOLD} released."
        )
        assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.RELEASE]  # already
        assert "$0.00 spent · $0.00 in flight" in await said(core, "budget")
        fal.resume()


async def test_a_cancel_while_fal_renders_keeps_the_hold_and_says_so(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Running)
        answer = await said(core, "cancel", job=job_id)
        assert "released" not in answer and f"up to {HOLD} charged" in answer
        assert await said(core, "cancel", job=job_id) == answer  # asking again: the same truth
        assert await kinds(core, job_id) == [EntryKind.HOLD]
        assert f"$0.00 spent · {HOLD} in flight" in await said(core, "budget")
        details = await said(core, "show", job=job_id)
        assert "Cancel: Asked fal to stop" in details and "State: running" in details
        job = await core.storage.jobs.get(job_id)
        fal.finish(job.fal_request_id)  # fal does not stop it: it renders to the end
        await core.supervisor.wait(job_id)
        assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
        assert f"{HOLD} spent · $0.00 in flight" in await said(core, "budget")


async def test_the_status_shown_after_a_stop_is_asked_still_says_so(tmp_path):
    """The follower re-reads the job after the cancel's wake-up: each later progress line is
    drawn from a job that knows a stop was asked (status_text adds the warning to it)."""
    seen: list = []

    class Jobs(RecordingPoster):
        async def progress(self, job, event):
            seen.append((job, event))
            return await super().progress(job, event)

    poster = Jobs()
    async with (
        SimulatedFal(generation_seconds=10, queue_seconds=0.05) as fal,
        paid_core(tmp_path, fal, poster) as core,
    ):
        job_id = await generate(core)
        await poster.wait_for_event(job_id, Running)
        await said(core, "cancel", job=job_id)
        asked = len(seen)
        async with asyncio.timeout(10), poster.changed:
            await poster.changed.wait_for(
                lambda: any(isinstance(e, Running) for _, e in seen[asked:])
            )
        later = [j for j, e in seen[asked:] if isinstance(e, Running)]
        assert all(j.cancel_requested_at is not None for j in later)
        fal.finish((await core.storage.jobs.get(job_id)).fal_request_id)
        await core.supervisor.wait(job_id)
