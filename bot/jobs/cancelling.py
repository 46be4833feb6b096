"""Cancelling a job: what is stored, what fal is asked, what the user is told."""

from __future__ import annotations

from bot.events import Cancelled, StopAsked
from bot.jobs.lifecycle import Lifecycle
from bot.jobs.record import ACTIVE, Job, JobState
from bot.jobs.remote import wake_driver
from bot.money import Money
from bot.ports import JobSignals


async def request_cancel(
    lifecycle: Lifecycle, job_id: str, wake: JobSignals | None = None
) -> tuple[Job | None, Cancelled | StopAsked | None]:
    """Cancel the job (see `Supervisor.cancel`) and tell the user; returns the outcome, with
    the job as stored when this call changed it and the job's follower must hear of it (None:
    nothing changed here, or the follower ended it itself). The write of the outcome signals
    the follower on `wake`, wherever it runs, in the write's own transaction."""
    job = await lifecycle.jobs.get(job_id)
    if job is None or job.state not in ACTIVE:
        return None, None
    if job.cancel_requested_at is not None:
        return None, StopAsked(Money(job.quoted_nanos))  # asked already: still held
    asked = lifecycle.clock()
    if job.fal_request_id:
        # Stored before fal hears of it: whoever follows the job (maybe another process)
        # and sees fal's "cancelled" first then ends it cancelled, not failed.
        job = await lifecycle.update(
            job,
            lambda j: (
                j.with_changes(asked, cancel_requested_at=asked)
                if j.state in ACTIVE and j.cancel_requested_at is None
                else None
            ),
        )
        if job.state not in ACTIVE:
            return None, None
    # True only while the request is still queued at fal (see FalGateway.cancel).
    stopped = await lifecycle.gateway.cancel(job.fal_request_id) if job.fal_request_id else True
    now = lifecycle.clock()
    outcome: Cancelled | StopAsked | None = None

    def cancelled(j: Job) -> Job | None:
        nonlocal outcome
        if j.state not in ACTIVE:
            outcome = None
            return None
        if stopped or j.fal_request_id is None:
            outcome = Cancelled(Money(j.quoted_nanos))
            return j.advance(JobState.CANCELLED, now)
        outcome = StopAsked(Money(j.quoted_nanos))
        return j.with_changes(now, cancel_requested_at=now)

    # The follower is woken by the write that ends its follow: the end's (`finished_at`, below)
    # for a cancel, this one for a request to stop.
    ends_here = stopped or job.fal_request_id is None
    job = await lifecycle.update(job, cancelled, wake=None if ends_here else wake)
    if outcome is None:  # it ended first: maybe by this cancel, seen by its follower
        mine = job.state is JobState.CANCELLED and job.cancel_requested_at == asked
        return None, Cancelled(Money(job.quoted_nanos)) if mine else None
    if isinstance(outcome, Cancelled):  # a submit under way cancels at fal once it has the id
        job = await lifecycle.settle_cancelled(job, wake=wake)  # released before anyone is told
    elif ends_here and wake is not None:  # fal's id came meanwhile: the write was not woken
        await wake_driver(wake, job.id)
    await lifecycle.publish(job, outcome)
    return job, outcome
