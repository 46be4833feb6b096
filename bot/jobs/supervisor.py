"""The Supervisor: drives every job from HELD to DELIVERED and keeps every task it starts.

One task per job (`_drive`): submit once (`bot.jobs.submit`), follow the queue or wait for
fal's webhook (`bot.jobs.follow`), then hand the result to `bot.jobs.lifecycle.Lifecycle` (download,
probe, capture, post). Every step reads and writes the stored job under its optimistic lock, so
a restart resumes from what was stored, and a cancel or a webhook that arrives from anywhere is
seen by the task that owns the job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

from bot.errors import GenerationFailed, LostJob
from bot.events import Cancelled, StopAsked
from bot.jobs.follow import FollowPolicy, follow
from bot.jobs.lifecycle import Lifecycle, charge_of
from bot.jobs.record import ACTIVE, AT_FAL, Job, JobState
from bot.jobs.submit import CRASHED_MID_SUBMIT, submit_once
from bot.model import Payload, Platform
from bot.money import Money

log = logging.getLogger(__name__)
__all__ = ["CRASHED_MID_SUBMIT", "Supervisor", "apology"]


def apology(job_id: str) -> str:
    return f"Sorry, something went wrong on our side with job {job_id}; nothing was charged."


class Supervisor:
    """Starts, resumes, cancels and settles jobs; the only owner of job tasks."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        webhook_url: str | None = None,
        poll_interval: float = 2.0,
        webhook_fallback_seconds: float = 300.0,
    ) -> None:
        self.lifecycle = lifecycle
        self.jobs, self.ledger = lifecycle.jobs, lifecycle.ledger
        self.gateway, self.clock = lifecycle.gateway, lifecycle.clock
        self.webhook_url = webhook_url
        self.policy = FollowPolicy(poll_interval, bool(webhook_url), webhook_fallback_seconds)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}  # set by webhooks and cancels
        self._completed: set[str] = set()  # jobs whose end fal announced by webhook

    @property
    def driving(self) -> int:
        """Jobs this process is driving now (its in-flight jobs)."""
        return len(self._tasks)

    # --- starting and stopping --------------------------------------------------------------

    async def start(self, job: Job) -> None:
        """Drive a freshly held job in the background (the task is kept until it ends)."""
        self._spawn(job.id, self._drive(job.id))

    async def resume(self, platforms: Iterable[Platform] | None = None) -> list[str]:
        """After a restart: follow every job at fal, submit held ones, deliver finished ones.

        `platforms` limits it to jobs whose messages this process can post (the CLI resumes
        only console jobs); returns the ids of the jobs resumed.
        """
        wanted = set(platforms) if platforms is not None else set(Platform)
        pending = await self.jobs.in_states([*ACTIVE, JobState.SUCCEEDED])
        resumed = [job.id for job in pending if job.origin.platform in wanted]
        for job_id in resumed:
            self._spawn(job_id, self._drive(job_id))
        if resumed:
            log.info("resumed %d unfinished jobs", len(resumed))
        return resumed

    async def wait(self, *job_ids: str) -> None:
        """Until this process's tasks for these jobs (default: all) have ended."""
        tasks = (
            [self._tasks[j] for j in job_ids if j in self._tasks]
            if job_ids
            else [*self._tasks.values()]
        )
        await asyncio.gather(*(asyncio.shield(task) for task in tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop following (jobs stay stored and resume at the next start)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # Any, Any: the yield and send types asyncio's create_task leaves open.
    def _spawn(self, job_id: str, work: Coroutine[Any, Any, None]) -> None:
        if job_id in self._tasks:  # already driven here: a second driver would only race it
            work.close()
            return
        task = asyncio.get_running_loop().create_task(work, name=f"ltxbot-job-{job_id}")
        self._tasks[job_id] = task
        self._wake.setdefault(job_id, asyncio.Event())
        task.add_done_callback(lambda _: self._ended(job_id))

    def _ended(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self._wake.pop(job_id, None)
        self._completed.discard(job_id)

    # --- the life of one job ----------------------------------------------------------------

    async def _drive(self, job_id: str) -> None:
        job = await self.jobs.get(job_id)
        if job is None:
            log.error("job %s: not in the store; nothing to drive", job_id)
            return
        try:
            job = await self._to_the_end(job)
        except asyncio.CancelledError:
            raise
        except GenerationFailed as failure:
            await self._ended_badly(job, failure.reason)
        except LostJob:
            log.exception("job %s: lost from the store", job_id)
        except Exception:
            log.exception("job %s: unexpected error", job_id)
            await self._fail(job, apology(job_id))

    async def _to_the_end(self, job: Job) -> Job:
        """From the job as just read (`_drive`) to its end; each step passes on what it stored."""
        if job.state is JobState.HELD:
            job = await submit_once(self.lifecycle, job, self.webhook_url)
        if job.state in AT_FAL:
            wake = self._wake.setdefault(job.id, asyncio.Event())
            job = await follow(
                self.lifecycle,
                job,
                self.policy,
                wake=wake,
                announced=lambda: job.id in self._completed,
            )
            if job.result is None and job.state in AT_FAL:
                job = await self.lifecycle.record_result(
                    job, await self.gateway.result(job.fal_request_id or "")
                )
            if job.state in AT_FAL:
                job = await self.lifecycle.finish(job)
        if job.state is JobState.SUCCEEDED:
            job = await self.lifecycle.deliver(job)
        return job

    async def _ended_badly(self, job: Job, reason: str) -> None:
        """fal (or a step after it) failed the job; if the user had asked to cancel it, that
        is the cancel taking effect: cancelled and released, not failed."""
        job = await self.jobs.get(job.id) or job
        if job.cancel_requested_at is None or job.state not in ACTIVE:
            return await self._fail(job, reason)
        now = self.clock()
        job = await self.lifecycle.update(
            job, lambda j: j.advance(JobState.CANCELLED, now) if j.state in ACTIVE else None
        )
        if job.state is JobState.CANCELLED and job.finished_at is None:
            job = await self.lifecycle.settle_cancelled(job)
            await self.lifecycle.publish(job, Cancelled(Money(job.quoted_nanos)))

    async def _fail(self, job: Job, reason: str) -> None:
        try:
            await self.lifecycle.fail(job, reason)
        except Exception:
            log.exception("job %s: could not record the failure %r", job.id, reason)

    # --- cancel ---------------------------------------------------------------------------

    async def cancel(self, job_id: str) -> Cancelled | StopAsked | None:
        """Cancel a job that has not ended; None when it already has.

        Before fal has it, or while it waits in fal's queue: cancelled and released at once
        (`Cancelled`). While fal renders it, fal only accepts a request to stop (`StopAsked`):
        the hold stays, a video that comes anyway is charged and delivered, a stop is released.
        """
        job = await self.jobs.get(job_id)
        if job is None or job.state not in ACTIVE:
            return None
        if job.cancel_requested_at is not None:
            return StopAsked(Money(job.quoted_nanos))  # asked already: still held
        asked = self.clock()
        if job.fal_request_id:
            # Stored before fal hears of it: whoever follows the job (maybe another process)
            # and sees fal's "cancelled" first then ends it cancelled, not failed.
            job = await self.lifecycle.update(
                job,
                lambda j: (
                    j.with_changes(asked, cancel_requested_at=asked)
                    if j.state in ACTIVE and j.cancel_requested_at is None
                    else None
                ),
            )
            if job.state not in ACTIVE:
                return None
        # True only while the request is still queued at fal (see FalGateway.cancel).
        stopped = await self.gateway.cancel(job.fal_request_id) if job.fal_request_id else True
        now = self.clock()
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

        job = await self.lifecycle.update(job, cancelled)
        if outcome is None:  # it ended first: maybe by this cancel, seen by its follower
            mine = job.state is JobState.CANCELLED and job.cancel_requested_at == asked
            return Cancelled(Money(job.quoted_nanos)) if mine else None
        if isinstance(outcome, Cancelled):  # a submit under way cancels at fal once it has the id
            job = await self.lifecycle.settle_cancelled(job)  # released before anyone is told
        await self.lifecycle.publish(job, outcome)
        if job_id in self._wake:
            self._wake[job_id].set()
        elif isinstance(outcome, StopAsked):  # nobody here follows it: follow it to its end
            self._spawn(job.id, self._drive(job.id))
        return outcome

    # --- webhooks and the sweep ----------------------------------------------------------

    async def on_webhook(self, request_id: str, body: Payload, job_hint: str | None = None) -> None:
        """fal says a request ended: wake its follower, or follow it here (another replica may
        have submitted it, or this one restarted). Idempotent: fal retries deliveries."""
        job = await self.jobs.by_fal_request_id(request_id)
        if job is None and job_hint:
            hinted = await self.jobs.get(job_hint)
            if hinted is not None and hinted.state is JobState.HELD and hinted.submit_token:
                job = hinted  # fal answered faster than the request id was stored
            elif hinted is not None:
                log.error(
                    "job %s: fal ran request %s, whose submit answer was lost; fal may bill it "
                    "although the job was not charged (webhook status %s)",
                    hinted.id,
                    request_id,
                    body.get("status"),
                )
                return
        if job is None:
            log.warning("webhook for unknown fal request %s; ignored", request_id)
            return
        if job.id in self._tasks:
            self._completed.add(job.id)
            self._wake[job.id].set()
        elif job.state in (*AT_FAL, JobState.SUCCEEDED):
            self._spawn(job.id, self._drive(job.id))
            self._completed.add(job.id)

    async def sweep(self) -> int:
        """Close holds whose job has ended without closing them (a crash between two writes),
        and try again the deliveries that nobody drives (a platform that was down)."""
        closed = 0
        for job_id in await self.ledger.open_holds():
            if job_id in self._tasks:
                continue
            job = await self.jobs.get(job_id)
            now = self.clock()
            if (
                job is None
                or job.state in {JobState.FAILED, JobState.REJECTED}
                or (job.state is JobState.CANCELLED and job.finished_at is not None)
            ):
                closed += await self.ledger.release(job_id=job_id, at=now, note="sweep")
            elif job.state is JobState.DELIVERED:  # posted, then stopped before the capture
                if job.simulated:
                    closed += await self.ledger.release(job_id=job_id, at=now, note="simulated")
                else:
                    amount = Money(charge_of(job))
                    closed += await self.ledger.capture(job_id=job_id, amount=amount, at=now)
        if closed:
            log.warning("sweep closed %d dangling holds", closed)
        for job in await self.jobs.in_states([JobState.SUCCEEDED]):
            if job.id not in self._tasks and job.origin.platform in self.lifecycle.posters:
                self._spawn(job.id, self._drive(job.id))
        return closed
