"""Words for a job's money and times, in `history` and `show`."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.jobs.record import Job, JobState
from bot.money import Money


def job_money(job: Job) -> str:
    """ "$0.29 charged", "$0.29 held", "$0.29 quoted" (not held yet), or "not charged"."""
    if job.state in {JobState.REJECTED, JobState.FAILED, JobState.CANCELLED}:
        return "not charged"  # released, or never held
    if job.simulated and job.state is not JobState.RECEIVED:
        return "not charged (simulated)"
    if job.captured_nanos is not None:
        return f"{Money(job.captured_nanos)} charged"
    if job.state is JobState.RECEIVED:  # waiting for a confirmation or an approval
        return f"{Money(job.quoted_nanos)} quoted"
    return f"{Money(job.quoted_nanos)} held"


def job_time(moment: datetime) -> str:
    """A stored moment as the terminal and chat read it: "2026-12-03 09:46:11 UTC"."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
