"""A replica taking over a job finds what the job needs, or says so: a SUCCEEDED job whose MP4
is not on this replica's disk fetches it again from fal's stored URL; a HELD job whose sheet is
gone fails with a sentence and is released, never sent to fal nor charged; a video gone from
the disk and from fal too fails with a sentence, released.

The first replica is stopped while the job waits at that step (its poster holds it there), its
file is removed (another replica's disk), and a second replica on the same database resumes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from runnerkit import RecordingPoster, generate, kinds, paid_core

from bot.events import Failed, Held, JobEvent, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState
from bot.media.sheet_files import original_of
from bot.ports import Delivery, EntryKind


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.05, queue_seconds=0.01) as server:
        yield server


class StuckPoster(RecordingPoster):
    """Holds the job at the first `stuck_at` event it is shown (or at delivery) until the
    replica stops; `reached` says it got there."""

    def __init__(self, stuck_at: type | None) -> None:
        super().__init__()
        self.stuck_at = stuck_at
        self.reached = asyncio.Event()

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        if self.stuck_at is not None and isinstance(event, self.stuck_at):
            await self._stick()
        return await super().progress(job, event)

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: object = None
    ) -> Delivery:
        if self.stuck_at is None:
            await self._stick()
        return await super().deliver(job, video, event, attempt)

    async def _stick(self) -> None:
        self.reached.set()
        await asyncio.Event().wait()  # until the replica's close cancels the job's task


async def test_a_video_not_on_this_replicas_disk_is_fetched_again_from_fal(tmp_path, fal):
    stuck = StuckPoster(stuck_at=None)
    async with paid_core(tmp_path, fal, stuck) as first:
        job_id = await generate(first)
        await asyncio.wait_for(stuck.reached.wait(), 20)
        job = await first.storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.SUCCEEDED and job.result is not None
    assert job.result.video_path is not None
    await asyncio.to_thread(Path(job.result.video_path).unlink)  # the first replica's disk
    downloads = fal.storage.videos_served

    shown = RecordingPoster()
    async with paid_core(tmp_path, fal, shown) as second:
        assert await second.supervisor.resume() == [job_id]
        assert isinstance(await asyncio.wait_for(shown.ending(job_id), 20), Succeeded)
        await second.supervisor.wait()
        [(delivered, video)] = shown.deliveries
        assert delivered == job_id and await asyncio.to_thread(video.exists)
        job = await second.storage.jobs.get(job_id)
        assert job is not None and job.state is JobState.DELIVERED
        assert await kinds(second, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
    assert fal.storage.videos_served == downloads + 1  # fetched once more, from the stored URL
    assert len(fal.submissions) == 1  # never generated again


async def test_a_video_gone_from_this_disk_and_from_fal_fails_honestly_uncharged(tmp_path, fal):
    stuck = StuckPoster(stuck_at=None)
    async with paid_core(tmp_path, fal, stuck) as first:
        job_id = await generate(first)
        await asyncio.wait_for(stuck.reached.wait(), 20)
        job = await first.storage.jobs.get(job_id)
    assert job is not None and job.result is not None and job.result.video_path is not None
    await asyncio.to_thread(Path(job.result.video_path).unlink)
    fal.faults.video_404 = True  # fal's CDN no longer has it either

    shown = RecordingPoster()
    async with paid_core(tmp_path, fal, shown) as second:
        assert await second.supervisor.resume() == [job_id]
        ending = await asyncio.wait_for(shown.ending(job_id), 20)
        await second.supervisor.wait()
        assert isinstance(ending, Failed) and "Nothing was charged" in ending.reason
        assert "not at fal's file store" in ending.reason
        assert shown.deliveries == []
        job = await second.storage.jobs.get(job_id)
        assert job is not None and job.state is JobState.FAILED
        assert await kinds(second, job_id) == [EntryKind.HOLD, EntryKind.RELEASE]


async def test_a_held_job_whose_sheet_is_gone_fails_honestly_and_is_released(tmp_path, fal):
    poster = StuckPoster(stuck_at=Held)
    async with paid_core(tmp_path, fal, poster) as first:
        job_id = await generate(first)
        await asyncio.wait_for(poster.reached.wait(), 20)
        job = await first.storage.jobs.get(job_id)
    assert job is not None and job.state is JobState.HELD and job.sheet_path
    for path in (Path(job.sheet_path), original_of(Path(job.sheet_path))):
        await asyncio.to_thread(path.unlink, missing_ok=True)

    shown = RecordingPoster()
    async with paid_core(tmp_path, fal, shown) as second:
        assert await second.supervisor.resume() == [job_id]
        ending = await asyncio.wait_for(shown.ending(job_id), 20)
        await second.supervisor.wait()
        assert isinstance(ending, Failed)
        assert "reference sheet of this job is gone" in ending.reason
        job = await second.storage.jobs.get(job_id)
        assert job is not None and job.state is JobState.FAILED
        assert await kinds(second, job_id) == [EntryKind.HOLD, EntryKind.RELEASE]
    assert fal.submissions == []  # nothing reached fal, so nothing can be paid
