"""What a replica does with news of a job it does not drive: store it, then wake the driver.

Behind a load balancer fal's webhook (or a cancel) lands on any replica. The one that drives
the job may be another: this one stores what it learned in the job's record (under the
optimistic lock, like every write) and sends a `JobSignal`; the driver's follower wakes, re-reads
the record and acts at once, instead of at its next look (five minutes with webhooks).
"""

from __future__ import annotations

import logging

from bot.jobs.lifecycle import Lifecycle
from bot.jobs.record import AT_FAL, Job, JobState
from bot.model import Payload
from bot.ports import JobSignals, JobStore

log = logging.getLogger(__name__)
BEFORE_THE_END = frozenset({JobState.HELD, *AT_FAL})  # fal's end still to be acted on


async def job_of_webhook(
    jobs: JobStore, request_id: str, body: Payload, job_hint: str | None
) -> Job | None:
    """The job a webhook is about: by fal's request id, or (fal answered before the request id
    was stored) by the hinted job id when that job is mid-submit; None when there is none."""
    job = await jobs.by_fal_request_id(request_id)
    if job is None and job_hint:
        hinted = await jobs.get(job_hint)
        if hinted is not None and hinted.state is JobState.HELD and hinted.submit_token:
            return hinted
        if hinted is not None:
            log.error(
                "job %s: fal ran request %s, whose submit answer was lost; fal may bill it "
                "although the job was not charged (webhook status %s)",
                hinted.id,
                request_id,
                body.get("status"),
            )
            return None
    if job is None:
        log.warning("webhook for unknown fal request %s; ignored", request_id)
    return job


async def store_fal_ended(lifecycle: Lifecycle, job: Job, signals: JobSignals) -> None:
    """fal said the job's request ended: stored in the job (once; fal delivers again on
    failure, and each delivery wakes the driver again), with the wake in the same write (on
    PostgreSQL its transaction), so no crash between the two can lose it."""
    now = lifecycle.clock()
    stored = job

    def ended(j: Job) -> Job | None:
        nonlocal stored
        stored = j
        if j.fal_ended_at is None and j.state in BEFORE_THE_END:
            return j.with_changes(now, fal_ended_at=now)
        return None

    job = await lifecycle.update(job, ended, wake=signals)
    log.info("job %s: webhook for a job another replica drives; stored, waking it", job.id)
    if job is stored:  # stored already (a repeated delivery): a wake announcing no write
        await wake_driver(signals, job.id)


async def wake_driver(signals: JobSignals, job_id: str) -> None:
    """Signal the job's driver, wherever it runs; a lost signal only costs it a wait until
    its own next look, so a failure is a warning, not an error for the caller."""
    try:
        await signals.notify(job_id)
    except Exception as problem:
        log.warning(
            "job %s: could not wake its driver (%s); it looks at its next check",
            job_id,
            type(problem).__name__,
        )
