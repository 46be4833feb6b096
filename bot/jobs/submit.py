"""Sending one held job to fal exactly once: upload the sheet, store a token, submit, store
fal's request id.

Why the token: it is stored on the job *before* the submit POST. A job found after a restart
with a token but no request id was being submitted when the process died; fal may have queued
it, so it is not sent again (no double-paid video) and fails honestly instead.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from urllib.parse import urlencode

from bot.errors import GenerationFailed
from bot.events import Held
from bot.jobs.lifecycle import Lifecycle, with_status
from bot.jobs.record import Job, JobState
from bot.media.sheet_files import upload_sheet
from bot.money import Money

log = logging.getLogger(__name__)
CRASHED_MID_SUBMIT = (
    "the bot restarted while sending this job to fal and cannot tell whether fal received it; "
    "to make sure it is not paid twice it was not sent again. Nothing was charged; please try "
    "again."
)


async def submit_once(lifecycle: Lifecycle, job: Job, webhook_url: str | None) -> Job:
    """HELD -> SUBMITTED with fal's request id stored; a job cancelled meanwhile is cancelled
    at fal as soon as its request id is known."""
    if job.submit_token is not None:
        raise GenerationFailed(CRASHED_MID_SUBMIT)
    gateway, clock = lifecycle.gateway, lifecycle.clock
    # Stored below with the token: one write before the POST instead of three.
    message_id = await lifecycle.show(job, Held(Money(job.quoted_nanos)))
    url = job.sheet_url
    if url is None:
        # Sanitised here, off the reply path; read only for its (bounded) upload.
        url = await upload_sheet(
            Path(job.sheet_path or ""),
            lambda data: gateway.upload(data, content_type="image/png", file_name=f"{job.id}.png"),
        )
    token = uuid.uuid4().hex

    def before_submit(j: Job) -> Job | None:
        if j.state is not JobState.HELD or j.submit_token is not None:
            return None  # cancelled meanwhile, or another driver is submitting it
        origin = with_status(j.origin, message_id)
        return j.with_changes(clock(), origin=origin, sheet_url=url, submit_token=token)

    job = await lifecycle.update(job, before_submit)
    if job.state is not JobState.HELD or job.submit_token != token:
        return job  # nothing reached fal from here
    arguments = job.request.fal_arguments(job.sheet_url or "")
    request_id = await gateway.submit(arguments, webhook_url=webhook_for(webhook_url, job.id))
    now = clock()

    def submitted(j: Job) -> Job:
        if j.state is JobState.HELD:
            return j.advance(JobState.SUBMITTED, now, fal_request_id=request_id, submitted_at=now)
        return j.with_changes(now, fal_request_id=request_id)  # cancelled meanwhile

    job = await lifecycle.update(job, submitted)
    if job.state is JobState.CANCELLED:
        # Just queued, so fal drops it; should it not confirm, the log says so (the user was
        # told the job is cancelled and is not charged either way).
        confirmed = await gateway.cancel(request_id)
        if not confirmed:
            log.warning("job %s: cancelled during submit; fal did not confirm the stop", job.id)
        job = await lifecycle.settle_cancelled(job)
    return job


def webhook_for(webhook_url: str | None, job_id: str) -> str | None:
    """fal's callback URL for a job; the job id lets a webhook for a submit whose answer was
    lost still name its job."""
    if not webhook_url:
        return None
    return f"{webhook_url}?{urlencode({'job': job_id})}"
