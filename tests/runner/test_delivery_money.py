"""Money follows the video to the requester: captured only once they have it, released when no
way reaches them, and a delivery that failed for a while is tried again by the sweep."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from runnerkit import ALICE, RecordingPoster, generate, kinds, paid_core

from bot.events import Failed, JobEvent, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState
from bot.money import Money
from bot.ports import Delivery, DeliveryRoute, EntryKind

HOLD, CAPTURE, RELEASE = EntryKind.HOLD, EntryKind.CAPTURE, EntryKind.RELEASE


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


class FlakyPoster(RecordingPoster):
    """Refuses every delivery (a platform that is down) until `up` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.up = asyncio.Event()
        self.tries = 0
        self.gave_up = asyncio.Event()  # the lifecycle's last try in a row failed

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: object = None
    ) -> Delivery:
        self.tries += 1
        if self.tries == 3:
            self.gave_up.set()
        if not self.up.is_set():
            raise ConnectionError("the platform is down")
        return await super().deliver(job, video, event)


async def test_a_video_nobody_can_get_is_released_kept_and_said(tmp_path, fal):
    poster = RecordingPoster()
    poster.undeliverable = "I can no longer post in <#C1> (Missing Access)"
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        failed = await poster.wait_for_event(job_id, Failed, timeout=20)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.FAILED
        assert await kinds(core, job_id) == [HOLD, RELEASE]  # never captured
        assert job.captured_nanos is None and job.charge_nanos == job.quoted_nanos
        assert isinstance(failed, Failed) and failed.refunded == Money(job.quoted_nanos)
        assert failed.reason.startswith("I can no longer post in <#C1> (Missing Access)")
        assert "Nothing was charged" in failed.reason and f"ltxbot show {job_id}" in failed.reason
        assert await asyncio.to_thread(Path(job.result.video_path).exists)  # kept for `show`
        budget = await core.services.budgets.status(ALICE.scope_key, ALICE.user_id)
        assert all(s.usage.spent == Money.zero() and s.usage.held == Money.zero() for s in budget)


async def test_the_hold_stays_until_the_platform_takes_the_video_then_the_sweep_delivers(
    tmp_path, fal
):
    poster = FlakyPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await asyncio.wait_for(poster.gave_up.wait(), 20)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.SUCCEEDED and job.captured_nanos is None
        assert await kinds(core, job_id) == [HOLD]  # held, not charged: nobody has the video
        poster.up.set()
        await core.supervisor.sweep()
        event = await asyncio.wait_for(poster.ending(job_id), 20)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.DELIVERED and job.origin.delivered_via == DeliveryRoute.THREAD
        assert await kinds(core, job_id) == [HOLD, CAPTURE]
        assert isinstance(event, Succeeded) and event.cost == Money(job.captured_nanos)


async def test_the_room_shown_with_the_video_is_the_room_after_its_capture(tmp_path, fal):
    poster = RecordingPoster()
    fal.faults.billable_units = "2"  # fal bills 2 MP of the 5 MP held
    async with paid_core(tmp_path, fal, poster, default_user_cap_usd="1") as core:
        job_id = await generate(core, num_frames=121)
        event = await asyncio.wait_for(poster.ending(job_id), 20)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert isinstance(event, Succeeded)
        assert job.captured_nanos is not None and job.captured_nanos < job.quoted_nanos
        # What `budget` says now is what the result said when it was posted, before the capture.
        assert event.remaining == await core.services.budgets.remaining(
            ALICE.scope_key, ALICE.user_id
        )
        assert event.remaining == Money.usd("1") - Money(job.captured_nanos)
