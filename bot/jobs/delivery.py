"""Delivery exactly once: the post is its own recorded step.

Before each platform step (Discord's send, Slack's upload and its completion) the poster notes
it with `DeliveryAttempt.mark`, stored on the job (`Job.delivery`) under the optimistic lock
before the step is taken. A crash between the platform's post and the stored DELIVERED then
resumes with those notes: the poster looks whether the post is there (Discord: the message
nonce, then the channel's messages; Slack: files.info's shares) and posts only if not. The
capture is keyed by the job id, so a resumed delivery never captures twice either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bot.errors import Superseded
from bot.jobs.record import Delivering, Job, JobState
from bot.ports import Clock

Update = Callable[[Job, Callable[[Job], Job | None]], Awaitable[Job]]


def delivery_key(job_id: str) -> str:
    """The job's idempotency key: derived from the job id, so every try and every replica
    sends the same one (Discord takes nonces of at most 25 characters)."""
    return f"ltx-{job_id}"[:25]


class RecordedAttempt:
    """`bot.ports.DeliveryAttempt` stored on the job through `update` (Lifecycle.update)."""

    def __init__(self, job: Job, update: Update, clock: Clock, key: str | None = None) -> None:
        """`key`: another job's (a request's takes post with take 1's); default this job's."""
        self.job = job  # the newest stored copy, for the lifecycle's next write
        self._update, self._clock = update, clock
        stored = job.delivery
        fresh_key = key or delivery_key(job.id)
        self._record = stored or Delivering(key=fresh_key, started_at=clock())
        self._resumed = bool(stored and stored.marks)

    @property
    def key(self) -> str:
        return self._record.key

    @property
    def marks(self) -> Mapping[str, str]:
        return self._record.marks

    @property
    def resumed(self) -> bool:
        return self._resumed

    async def mark(self, **marks: str) -> None:
        if all(self._record.marks.get(name) == value for name, value in marks.items()):
            return  # already stored: no write
        record = self._record.model_copy(update={"marks": {**self._record.marks, **marks}})

        def change(job: Job) -> Job | None:
            if job.state is not JobState.SUCCEEDED:
                raise Superseded(f"{job.id}: {job.state} while its video was being posted")
            return job.with_changes(self._clock(), delivery=record)

        self.job = await self._update(self.job, change)
        self._record = record
        self._resumed = True  # a later try within this process resumes too


class MemoryAttempt:
    """An attempt kept in memory only: for a post made outside the lifecycle (tests, tools)."""

    def __init__(self, job: Job) -> None:
        self.key = delivery_key(job.id)
        self.marks: dict[str, str] = dict(job.delivery.marks) if job.delivery else {}
        self.resumed = bool(self.marks)

    async def mark(self, **marks: str) -> None:
        self.marks.update(marks)
        self.resumed = True
