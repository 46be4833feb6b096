"""The terminal's wait watches the stored job: a job that another process ended (a webhook's
failure, a sweep) while this process's follow sits in fal's silent status stream is seen
at the next look, and reported as stored."""

from __future__ import annotations

import asyncio
import io

from runnerkit import generate, paid_core

from adapters.console.job_watch import ending_line, wait_for_ending
from adapters.console.poster import ConsolePoster
from bot.events import JobEvent, Queued
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState


class QueueWatcher(ConsolePoster):
    """The terminal's poster, and an event set once fal's queue position is shown (the job is
    stored SUBMITTED by then)."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.queued = asyncio.Event()

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        shown = await super().progress(job, event)
        if isinstance(event, Queued):
            self.queued.set()
        return shown


async def test_a_job_failed_by_another_process_ends_the_wait_at_the_next_look(tmp_path):
    async with SimulatedFal(generation_seconds=0.3, queue_seconds=0.05) as fal:
        fal.pause()  # the stream here stays silent: only the store can tell
        here, there = QueueWatcher(), ConsolePoster(io.StringIO())
        async with (
            paid_core(tmp_path, fal, here) as core,  # type: ignore[arg-type]
            paid_core(tmp_path, fal, there) as other,  # type: ignore[arg-type]
        ):
            job_id = await generate(core)
            waiting = asyncio.ensure_future(wait_for_ending(core, here, job_id, look_every=0.05))
            await asyncio.wait_for(here.queued.wait(), 10)
            job = await other.storage.jobs.get(job_id)
            assert job is not None and job.state is JobState.SUBMITTED
            await other.supervisor.lifecycle.fail(job, "fal says the runner was lost")
            ending = await asyncio.wait_for(waiting, 10)
            assert not here.ending(job_id).done()  # nothing here heard of it
            assert core.supervisor.driving == 1  # still in the stream: the store told
    assert ending.event is None and ending.job is not None
    assert ending.job.state is JobState.FAILED
    assert ending_line(ending) == f"job {job_id} failed: fal says the runner was lost"
