"""Closing holds whose job ended without closing them (a crash between two writes)."""

from __future__ import annotations

import logging
from collections.abc import Container

from bot.jobs.lifecycle import Lifecycle
from bot.jobs.record import JobState, charge_of
from bot.money import Money

log = logging.getLogger(__name__)


async def close_dangling_holds(lifecycle: Lifecycle, driving: Container[str]) -> int:
    """Release the holds of failed, rejected and settled-cancelled jobs, capture those of
    delivered ones; jobs in `driving` are left to their driver. Returns how many closed."""
    closed = 0
    ledger = lifecycle.ledger
    for job_id in await ledger.open_holds():
        if job_id in driving:
            continue
        job = await lifecycle.jobs.get(job_id)
        now = lifecycle.clock()
        if (
            job is None
            or job.state in {JobState.FAILED, JobState.REJECTED}
            or (job.state is JobState.CANCELLED and job.finished_at is not None)
        ):
            closed += await ledger.release(job_id=job_id, at=now, note="sweep")
        elif job.state is JobState.DELIVERED:  # posted, then stopped before the capture
            if job.simulated:
                closed += await ledger.release(job_id=job_id, at=now, note="simulated")
            else:
                amount = Money(charge_of(job))
                closed += await ledger.capture(job_id=job_id, amount=amount, at=now)
    if closed:
        log.warning("sweep closed %d dangling holds", closed)
    return closed
