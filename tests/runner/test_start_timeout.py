"""A job fal cannot start: its wait in fal's queue shown as a person reads it, then, once the
start timeout sent with the submit passes, the end it gets (uncharged, its hold released)."""

from __future__ import annotations

import asyncio

import pytest
from runnerkit import RecordingPoster, generate, kinds, paid_core

import bot.jobs.follow as follow
from bot.events import Failed, JobEvent, Queued
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.money import Money
from bot.ports import EntryKind
from commands.render import status_text
from tests.clocks import Clock

NOT_STARTED = "fal could not start this video within 15 min; nothing was charged."


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.05) as server:
        yield server


async def queued_at(poster: RecordingPoster, job_id: str, position: int) -> Queued:
    """The first Queued event shown for the job at `position` (waits for it)."""

    def found() -> JobEvent | None:
        return next((e for j, e in poster.events if j == job_id and e == _at(e, position)), None)

    async with asyncio.timeout(10), poster.changed:
        await poster.changed.wait_for(lambda: found() is not None)
    event = found()
    assert isinstance(event, Queued)
    return event


def _at(event: JobEvent, position: int) -> JobEvent | None:
    return event if isinstance(event, Queued) and event.position == position else None


async def test_the_queue_line_reads_fal_position_as_a_person_and_the_wait(tmp_path, fal):
    clock, poster = Clock(), RecordingPoster()
    fal.faults.hold_in_queue_at = 1  # no machine frees up: the job stays 2nd
    fal.pause()  # the job waits 3rd in the queue until the test has moved the clock
    async with paid_core(tmp_path, fal, poster, clock=clock) as core:
        job_id = await generate(core)
        third = await queued_at(poster, job_id, 2)
        job = await core.storage.jobs.get(job_id)
        assert status_text(job, third).endswith("3rd in fal's queue, waiting under a minute")
        clock.advance(minutes=3)
        fal.resume()
        second = await queued_at(poster, job_id, 1)
        assert second == Queued(1, 3)
        assert status_text(job, second).endswith("2nd in fal's queue, waiting 3 min")
        clock.advance(minutes=2)
        fal.faults.hold_in_queue_at = 0
        first = await queued_at(poster, job_id, 0)
        assert status_text(job, first).endswith("1st in fal's queue, waiting 5 min")
        fal.faults.hold_in_queue_at = None  # a machine is free: the video is made
        await asyncio.wait_for(poster.ending(job_id), 20)
        await core.supervisor.wait(job_id)
    assert (await core.storage.jobs.get(job_id)).state is JobState.DELIVERED


async def test_a_silent_stream_still_shows_the_wait_growing(tmp_path, fal, monkeypatch):
    monkeypatch.setattr(follow, "QUIET_SECONDS", 0.02)
    clock, poster = Clock(), RecordingPoster()
    fal.faults.hold_in_queue_at = 2  # held where it joins: the stream says nothing more
    async with paid_core(tmp_path, fal, poster, clock=clock) as core:
        job_id = await generate(core)
        await queued_at(poster, job_id, 2)
        clock.advance(minutes=7)
        async with asyncio.timeout(10), poster.changed:
            await poster.changed.wait_for(lambda: (job_id, Queued(2, 7)) in poster.events)
        shown = [e for j, e in poster.events if j == job_id and isinstance(e, Queued)]
        assert shown == [Queued(2, 0), Queued(2, 7)]  # the same wait is not shown twice
        assert fal.stream_requests == 1 and fal.status_requests == 0
        await core.supervisor.close()


async def test_a_job_fal_cannot_start_in_time_fails_uncharged_with_its_hold_released(tmp_path, fal):
    poster = RecordingPoster()
    fal.faults.hold_in_queue_at = 0
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        [submission] = await fal.wait_for_submissions(1)
        sent = {name.lower(): value for name, value in submission.headers.items()}
        assert sent["x-fal-request-timeout"] == "900.0"  # LTXBOT_FAL_START_TIMEOUT_S's default
        await queued_at(poster, job_id, 0)
        fal.finish(submission.request_id)  # skip to the start timeout: fal gives up
        ending = await asyncio.wait_for(poster.ending(job_id), 20)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert isinstance(ending, Failed) and ending.reason == NOT_STARTED
        assert ending.refunded == Money(job.quoted_nanos)
        assert job.state is JobState.FAILED and job.failure == NOT_STARTED
        assert job.captured_nanos is None and job.started_at is None
        assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.RELEASE]
        entries = await core.storage.ledger.entries(scope="console:local")
        [release] = [e for e in entries if e.ref == job_id and e.kind is EntryKind.RELEASE]
        assert release.note == NOT_STARTED
        assert status_text(job, ending).splitlines()[-2] == f"❌ {NOT_STARTED}"
