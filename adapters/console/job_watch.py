"""Waiting for a terminal job's end, wherever it ends.

The console poster hears only what this process's Supervisor publishes. A job cancelled by
`ltxbot cancel` in another process, or ended by a webhook or the sweep in `ltxbot run`, changes
only the stored job: this process's task may then end without a word (its follow finds the job
settled) or sit in fal's status stream. So the wait also ends when the task ends, and the
stored job is re-read every `LOOK_SECONDS`; either way the stored ending is what is reported.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.events import JobEvent
from bot.jobs.record import Job, JobState
from bot.money import Money

if TYPE_CHECKING:
    from adapters.app.core import Core
    from adapters.console.poster import ConsolePoster

LOOK_SECONDS = 2.0  # one indexed read of the job; the end of a cancel is seen this soon
# When the task here ends without a word, the process that ended the job may still be writing
# it (a cancel stores CANCELLED, then the release): looks after these waits, then it is said.
SETTLING_WAITS = (0.05, 0.2, 0.5, 1.0, 2.0)


@dataclass(frozen=True, slots=True)
class Ending:
    """How the job ended: `event` as this process's poster heard it (Succeeded, Failed,
    Cancelled), or None with `job` as stored when the end happened elsewhere."""

    job_id: str
    job: Job | None
    event: JobEvent | None = None


async def wait_for_ending(
    core: Core, poster: ConsolePoster, job_id: str, *, look_every: float = LOOK_SECONDS
) -> Ending:
    heard = poster.ending(job_id)
    watchers = [
        asyncio.ensure_future(_until(heard)),
        asyncio.ensure_future(core.supervisor.wait(job_id)),
        asyncio.ensure_future(_stored_end(core, job_id, look_every)),
    ]
    try:
        await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for watcher in watchers:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
    if heard.done():
        ended, event = heard.result()
        # The poster hears of the ending before the runner records it (delivered, captured).
        await core.supervisor.wait(job_id)
        return Ending(job_id, ended, event)
    job = await core.services.jobs.get(job_id)
    for wait in SETTLING_WAITS:
        if _settled(job):
            break
        await asyncio.sleep(wait)  # bounded looks at another process's writes
        job = await core.services.jobs.get(job_id)
    return Ending(job_id, job)


def _settled(job: Job | None) -> bool:
    """Gone, or ended with its money settled (a cancel's release records `finished_at`)."""
    if job is None:
        return True
    return job.is_final and (job.state is not JobState.CANCELLED or job.finished_at is not None)


async def _until(heard: asyncio.Future[tuple[Job, JobEvent]]) -> None:
    await asyncio.shield(heard)  # the poster's future: a watcher's cancel must not cancel it


async def _stored_end(core: Core, job_id: str, look_every: float) -> None:
    while True:
        await asyncio.sleep(look_every)  # a bounded look at the store, not a wait for a result
        if _settled(await core.services.jobs.get(job_id)):
            return


def ending_line(ending: Ending) -> str:
    """One line for a job that ended elsewhere, or that nothing here follows any more."""
    job, job_id = ending.job, ending.job_id
    if job is None:
        return f"job {job_id} is no longer in the store"
    match job.state:
        case JobState.CANCELLED:
            released = f" ({Money(job.quoted_nanos)} released)" if job.finished_at else ""
            return (
                f"job {job_id} was cancelled (by `ltxbot cancel` or another process); "
                f"nothing was charged{released}"
            )
        case JobState.FAILED | JobState.REJECTED:
            return f"job {job_id} {job.state.value}: {job.failure or 'no reason was stored'}"
        case JobState.DELIVERED:
            return f"job {job_id} was delivered by another process"
    return (
        f"job {job_id} is still {job.state.value}, but this process no longer follows it; "
        "`ltxbot resume` finishes it"
    )
