"""The Supervisor: drives every job from HELD to DELIVERED and keeps every task it starts.

One task per job (`_drive`): submit once (`bot.submission`), follow the queue or wait for
fal's webhook (`bot.following`), then hand the result to `bot.delivery.Lifecycle` (download,
probe, capture, post). Every step reads and writes the stored job under its optimistic lock, so
a restart resumes from what was stored, and a cancel or a webhook that arrives from anywhere is
seen by the task that owns the job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

from bot.delivery import Lifecycle, LostJob
from bot.errors import GenerationFailed
from bot.events import Cancelled
from bot.following import FollowPolicy, follow
from bot.jobs import ACTIVE, AT_FAL, Job, JobState
from bot.model import Platform
from bot.money import Money
from bot.submission import CRASHED_MID_SUBMIT, submit_once

log = logging.getLogger(__name__)
S = JobState
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
        pending = await self.jobs.in_states([*ACTIVE, S.SUCCEEDED])
        unsettled = [
            job
            for job in await self.jobs.in_states([S.CANCELLED])
            if job.finished_at is None and job.fal_request_id
        ]
        resumed = [job.id for job in [*pending, *unsettled] if job.origin.platform in wanted]
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
            await self._fail(job, failure.reason)
        except LostJob:
            log.exception("job %s: lost from the store", job_id)
        except Exception:
            log.exception("job %s: unexpected error", job_id)
            await self._fail(job, apology(job_id))

    async def _to_the_end(self, job: Job) -> Job:
        job = await self.lifecycle.reload(job)
        if job.state is S.HELD:
            job = await submit_once(self.lifecycle, job, self.webhook_url)
        if job.state in AT_FAL or (job.state is S.CANCELLED and job.finished_at is None):
            wake = self._wake.setdefault(job.id, asyncio.Event())
            job = await follow(
                self.lifecycle, job, self.policy, wake=wake,
                announced=lambda: job.id in self._completed,
            )  # fmt: skip
            if job.state is S.CANCELLED:
                return await self._settle_cancel(job)
            if job.result is None:
                job = await self.lifecycle.record_result(
                    job, await self.gateway.result(job.fal_request_id or "")
                )
            if job.state in AT_FAL:
                job = await self.lifecycle.finish(job)
        if job.state is S.SUCCEEDED:
            job = await self.lifecycle.deliver(job)
        return job

    async def _fail(self, job: Job, reason: str) -> None:
        try:
            await self.lifecycle.fail(job, reason)
        except Exception:
            log.exception("job %s: could not record the failure %r", job.id, reason)

    # --- cancel ---------------------------------------------------------------------------

    async def cancel(self, job_id: str) -> Cancelled | None:
        """Cancel a job that has not ended; None when it already has.

        Before fal has it: cancelled and released at once. At fal: cancelled at fal, released
        only if fal confirms; otherwise the hold stays until the render ends (charged only if
        fal made the video) and the answer says so.
        """
        job = await self.jobs.get(job_id)
        if job is None or job.state not in ACTIVE:
            return None
        now = self.clock()
        before: JobState | None = None

        def cancelled(j: Job) -> Job | None:
            nonlocal before
            before = j.state if j.state in ACTIVE else None
            return j.advance(S.CANCELLED, now) if before else None

        job = await self.lifecycle.update(job, cancelled)
        if before is None:
            return None  # it ended first
        refund = Money(job.quoted_nanos)
        confirmed = True
        if job.fal_request_id:
            # fal answers CANCELLATION_REQUESTED either way; only a request still in the queue
            # is certain not to run. A running one is settled when fal says how it ended.
            accepted = await self.gateway.cancel(job.fal_request_id)
            confirmed = accepted and before is not S.RUNNING
        if confirmed:
            job = await self.lifecycle.settle_cancelled(job, rendered=False)
        outcome = Cancelled(refund if confirmed else Money.zero(), confirmed=confirmed)
        await self.lifecycle.publish(job, outcome)
        if job_id in self._wake:
            self._wake[job_id].set()
        elif not confirmed:  # nobody here follows it: follow it to settle the hold
            self._spawn(job.id, self._drive(job.id))
        return outcome

    async def _settle_cancel(self, job: Job) -> Job:
        """A cancel fal did not confirm has run to its end: charge only if a video was made."""
        if job.finished_at is not None:
            return job
        try:
            fal = await self.gateway.result(job.fal_request_id or "")
            job = await self.lifecycle.record_result(job, fal)
        except GenerationFailed:
            job = await self.lifecycle.settle_cancelled(job, rendered=False)
            return await self.lifecycle.publish(job, Cancelled(Money(job.quoted_nanos)))
        log.info("job %s: fal rendered it despite the cancel; charged as warned", job.id)
        return await self.lifecycle.settle_cancelled(job, rendered=True)

    # --- webhooks and the sweep ----------------------------------------------------------

    async def on_webhook(
        self, request_id: str, body: dict[str, Any], job_hint: str | None = None
    ) -> None:
        """fal says a request ended: wake its follower, or follow it here (another replica may
        have submitted it, or this one restarted). Idempotent: fal retries deliveries."""
        job = await self.jobs.by_fal_request_id(request_id)
        if job is None and job_hint:
            hinted = await self.jobs.get(job_hint)
            if hinted is not None and hinted.state is S.HELD and hinted.submit_token:
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
        elif job.state in (*AT_FAL, S.SUCCEEDED) or (
            job.state is S.CANCELLED and job.finished_at is None
        ):
            self._spawn(job.id, self._drive(job.id))
            self._completed.add(job.id)

    async def sweep(self) -> int:
        """Close holds whose job has ended without closing them (a crash between two writes)."""
        closed = 0
        for job_id in await self.ledger.open_holds():
            if job_id in self._tasks:
                continue
            job = await self.jobs.get(job_id)
            now = self.clock()
            if (
                job is None
                or job.state in {S.FAILED, S.REJECTED}
                or (
                    job.state is S.CANCELLED
                    and job.finished_at is not None
                    and not job.captured_nanos
                )
            ):
                closed += await self.ledger.release(job_id=job_id, at=now, note="sweep")
            elif job.state in {S.DELIVERED, S.SUCCEEDED} or job.captured_nanos:
                amount = Money(job.captured_nanos or 0)
                if job.simulated:
                    closed += await self.ledger.release(job_id=job_id, at=now, note="simulated")
                else:
                    closed += await self.ledger.capture(job_id=job_id, amount=amount, at=now)
        if closed:
            log.warning("sweep closed %d dangling holds", closed)
        return closed
