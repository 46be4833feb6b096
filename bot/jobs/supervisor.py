"""The Supervisor: drives every job from HELD to DELIVERED and keeps every task it starts.

One task per job (`_drive`): submit once (`bot.jobs.submit`), follow the queue or wait for
fal's webhook (`bot.jobs.follow`), then hand the result to `bot.jobs.lifecycle.Lifecycle` (download,
probe, capture, post). Every step reads and writes the stored job under its optimistic lock, so
a restart resumes from what was stored, and a cancel or a webhook that arrives from anywhere is
seen by the task that owns the job. A job is driven only under this replica's lease on it
(`bot.jobs.ownership`): claimed before its task starts, released when the task ends, and its
task cancelled when the lease is lost, so no two replicas ever drive one job. A webhook or a
cancel for a job another replica drives is stored and that replica woken (`bot.jobs.remote`,
`bot.ports.JobSignals`); `heard` is this replica's end of those signals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.errors import GenerationFailed, LostJob, StorageUnavailable
from bot.events import Cancelled, StopAsked
from bot.jobs.cancelling import request_cancel
from bot.jobs.follow import FollowPolicy, follow
from bot.jobs.hold_sweep import close_dangling_holds
from bot.jobs.lifecycle import Lifecycle
from bot.jobs.ownership import Ownership
from bot.jobs.record import ACTIVE, AT_FAL, Job, JobState
from bot.jobs.remote import BEFORE_THE_END, job_of_webhook, store_fal_ended
from bot.jobs.signals import LocalJobSignals
from bot.jobs.stopping import UncutSteps
from bot.jobs.submit import CRASHED_MID_SUBMIT, submit_once
from bot.model import Payload, Platform
from bot.money import Money
from bot.ports import JobLeases, JobSignals

log = logging.getLogger(__name__)
__all__ = ["CRASHED_MID_SUBMIT", "Supervisor", "apology"]
LAPSED_PER_PASS = 1000  # jobs looked at per takeover pass; the next pass takes the rest


def apology(job_id: str) -> str:
    return f"Sorry, something went wrong on our side with job {job_id}; nothing was charged."


class Supervisor:
    """Starts, resumes, cancels and settles jobs; the only owner of job tasks."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        *,
        leases: JobLeases,
        owner: str,
        lease_seconds: float = 30.0,
        webhook_url: str | None = None,
        poll_interval: float = 2.0,
        webhook_fallback_seconds: float = 300.0,
        signals: JobSignals | None = None,
    ) -> None:
        self.lifecycle, lifecycle.redrive = lifecycle, self._claim_and_drive  # takes' post
        self.jobs, self.ledger = lifecycle.jobs, lifecycle.ledger
        self.gateway, self.clock = lifecycle.gateway, lifecycle.clock
        self.webhook_url = webhook_url
        self.policy = FollowPolicy(poll_interval, bool(webhook_url), webhook_fallback_seconds)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}  # set by webhooks and cancels
        self._completed: set[str] = set()  # jobs whose end fal announced by webhook
        self._uncut = UncutSteps()  # submits and posts that a stop lets finish
        self.signals: JobSignals = signals or LocalJobSignals()  # listened to with `heard`
        self.ownership = Ownership(
            leases, owner=owner, seconds=lease_seconds, on_lost=self._lost, driving=self._tasks.keys
        )

    @property
    def driving(self) -> int:
        """Jobs this process is driving now (its in-flight jobs)."""
        return len(self._tasks)

    # --- starting and stopping --------------------------------------------------------------

    async def start(self, job: Job) -> None:
        """Drive a freshly held job in the background (the task is kept until it ends)."""
        await self._claim_and_drive(job.id)

    async def resume(self, platforms: Iterable[Platform] | None = None) -> list[str]:
        """At start: follow every job at fal, submit held ones, deliver finished ones, of the
        jobs no other live replica holds a lease on (those stay with their driver).

        `platforms` limits it to jobs whose messages this process can post (the CLI resumes
        only console jobs); returns the ids of the jobs resumed.
        """
        resumed = await self._take(platforms, undelivered=True, owner=self.ownership.owner)
        if resumed:
            log.info("resumed %d unfinished jobs", len(resumed))
        return resumed

    async def take_over(self, platforms: Iterable[Platform] | None = None) -> list[str]:
        """The jobs whose driver stopped renewing its lease (it died) or handed them back:
        claimed and resumed where their stored state says; returns their ids."""
        # A job held a moment ago is about to be claimed by the replica that held it.
        settled = self.clock() - timedelta(seconds=self.ownership.seconds)
        taken = await self._take(platforms, undelivered=False, unclaimed_before=settled)
        if taken:
            log.warning("took over %d jobs whose lease had run out", len(taken))
        return taken

    async def driven_elsewhere(self, platforms: Iterable[Platform]) -> dict[str, float]:
        """Unfinished jobs another live process drives: the seconds left on each lease."""
        return await self.ownership.leases.driven_elsewhere(
            owner=self.ownership.owner, platforms=set(platforms)
        )

    async def _take(
        self,
        platforms: Iterable[Platform] | None,
        *,
        undelivered: bool,
        unclaimed_before: datetime | None = None,
        owner: str | None = None,
    ) -> list[str]:
        wanted = set(platforms) if platforms is not None else set(Platform)
        lapsed = await self.ownership.leases.lapsed(
            platforms=wanted,
            limit=LAPSED_PER_PASS,
            undelivered=undelivered,
            unclaimed_before=unclaimed_before,
            owner=owner,
        )
        won = await self.ownership.claim_many([j for j in lapsed if j not in self._tasks])
        for job_id in won:
            self._spawn(job_id, self._drive(job_id))
        return [job_id for job_id in lapsed if job_id in self._tasks]  # won, or driven already

    async def _claim_and_drive(self, job_id: str) -> bool:
        """Drive the job here if this replica gets (or has) its lease; False if another has."""
        if job_id in self._tasks:
            return True
        if not await self.ownership.claim(job_id):
            return False
        self._spawn(job_id, self._drive(job_id))
        return True

    def _lost(self, job_id: str) -> None:
        if (task := self._tasks.get(job_id)) is not None:
            task.cancel()  # another replica drives it now (or may soon): never two drivers

    async def wait(self, *job_ids: str) -> None:
        """Until this process's tasks for these jobs (default: all) have ended."""
        tasks = (
            [self._tasks[j] for j in job_ids if j in self._tasks]
            if job_ids
            else [*self._tasks.values()]
        )
        await asyncio.gather(*(asyncio.shield(task) for task in tasks), return_exceptions=True)

    async def close(self, *, hand_back: bool = True) -> None:
        """Stop following (jobs stay stored and resume at the next start, here or on another
        replica), letting a submit or a post under way finish (`bot.jobs.stopping`); with
        `hand_back` their leases end now, so another replica takes over at once."""
        self.ownership.stop_claiming()  # no job starts here while the others stop
        await self._uncut.stop(self._tasks)  # a submit or a post under way finishes first
        await self.ownership.close(hand_back=hand_back)

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
            return await self.ownership.release(job_id)
        try:
            job = await self._to_the_end(job)
        except asyncio.CancelledError:
            raise  # closing or lost its lease: the lease is not ours to release
        except StorageUnavailable:  # not the job's fault: resumed from its record once back
            log.warning("job %s: the database is unreachable; resumed when it is back", job_id)
        except GenerationFailed as failure:
            await self._ended_badly(job, failure.reason)
        except LostJob:
            log.exception("job %s: lost from the store", job_id)
        except Exception:
            log.exception("job %s: unexpected error", job_id)
            await self._fail(job, apology(job_id))
        await self.ownership.release(job_id)

    async def _to_the_end(self, job: Job) -> Job:
        """From the job as just read (`_drive`) to its end; each step passes on what it stored."""
        if job.state is JobState.HELD:
            with self._uncut.step(job.id):
                job = await submit_once(self.lifecycle, job, self.webhook_url)
        if job.state in AT_FAL:
            wake = self._wake.setdefault(job.id, asyncio.Event())
            job = await follow(
                self.lifecycle,
                job,
                self.policy,
                wake=wake,
                announced=lambda j: j.id in self._completed or j.fal_ended_at is not None,
            )
            if job.result is None and job.state in AT_FAL:
                job = await self.lifecycle.record_result(
                    job, await self.gateway.result(job.fal_request_id or "")
                )
            if job.state in AT_FAL:
                job = await self.lifecycle.finish(job)
        if job.state is JobState.SUCCEEDED:
            with self._uncut.step(job.id):
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
        job, outcome = await request_cancel(self.lifecycle, job_id, self.signals)  # wakes it
        if job is None or outcome is None:
            return outcome
        if job_id in self._wake:
            self._wake[job_id].set()
        elif isinstance(outcome, StopAsked):  # nobody follows it: follow it here
            await self._claim_and_drive(job.id)
        return outcome

    # --- webhooks and the sweep ----------------------------------------------------------

    async def on_webhook(self, request_id: str, body: Payload, job_hint: str | None = None) -> None:
        """fal says a request ended: wake its follower, or follow it here (another replica may
        have submitted it, or this one restarted), or, when another replica drives it, store
        that in the job and wake that replica. Idempotent: fal retries deliveries."""
        job = await job_of_webhook(self.jobs, request_id, body, job_hint)
        if job is None:
            return
        if job.id in self._tasks:
            self._completed.add(job.id)
            self._wake[job.id].set()
        elif job.state in (*AT_FAL, JobState.SUCCEEDED) and await self._claim_and_drive(job.id):
            self._completed.add(job.id)
        elif job.state in BEFORE_THE_END:  # another replica drives it (or is submitting it)
            await store_fal_ended(self.lifecycle, job, self.signals)

    def heard(self, job_id: str | None) -> None:
        """A JobSignal: a replica stored news of the job (None: signals may have been missed);
        its follower here re-reads it at once."""
        wakes = self._wake.values() if job_id is None else [self._wake.get(job_id)]
        for wake in list(wakes):
            if wake is not None:
                wake.set()

    async def sweep(self) -> int:
        """Close holds whose job has ended without closing them (a crash between two writes),
        forget the leases of ended jobs, and try again the deliveries that nobody drives (a
        platform that was down)."""
        closed = await close_dangling_holds(self.lifecycle, self._tasks)
        await self.ownership.leases.forget_ended()
        for job in await self.jobs.in_states([JobState.SUCCEEDED]):
            if job.id not in self._tasks and job.origin.platform in self.lifecycle.posters:
                await self._claim_and_drive(job.id)
        return closed
