"""Following one job at fal until it ends, showing queue position and progress on the way.

When the gateway can `watch` (fal's server-sent status stream), that is used: one request for
the whole job, each queue position and log line shown as it comes, the end seen at once. If a
stream breaks it is opened again, at most `STREAM_OPENINGS` times per job and never sooner than
`poll_interval` after the last request; then, or at once when fal does not stream (404) or every
stream slot is taken, the job is polled as before. Polling: fal_client's own handles poll every
0.1 s; here the interval starts at `poll_interval` and grows to `MAX_POLL_SECONDS` (at most one
status request per 2 s per job by default). With webhooks nothing is polled or streamed: the
task sleeps until the verified callback (or a cancel) wakes it, and looks itself only every
`fallback_seconds`.

A job waiting in fal's queue shows fal's position and the whole minutes since its submit
(`Queued`); a stream says nothing while the job waits, so the wait is re-shown after every
`QUIET_SECONDS` of silence (an unchanged minute edits no message).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from bot.errors import FalUnavailable, StreamBroken, StreamBusy
from bot.events import JobEvent, Queued, Running
from bot.jobs.lifecycle import Lifecycle
from bot.jobs.record import AT_FAL, FINAL, Job, JobState
from bot.ports import FalStatus

log = logging.getLogger(__name__)
# fal may be unreachable for a while; give up after this many failed looks in a row.
MAX_FOLLOW_FAILURES = 10
# Status streams opened per job (the first and the reconnects) before falling back to polling.
STREAM_OPENINGS = 3
MAX_RETRY_AFTER = 60.0  # a longer Retry-After on a stream is not waited for in full
POLL_GROWTH, MAX_POLL_SECONDS = 1.5, 10.0
_STEP = re.compile(r"(\d+)\s*/\s*(\d+)")
MINUTE = timedelta(minutes=1)
# A silent status stream (a job stuck in fal's queue) still has its wait re-shown this often.
QUIET_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class FollowPolicy:
    poll_interval: float = 2.0
    webhooks: bool = False
    fallback_seconds: float = 300.0


async def follow(
    lifecycle: Lifecycle,
    job: Job,
    policy: FollowPolicy,
    *,
    wake: asyncio.Event,
    announced: Callable[[Job], bool],
) -> Job:
    """Until fal says the request ended (`announced(job)` is true once its webhook came, here
    or on another replica that stored it in the job), or the
    job was settled elsewhere (a confirmed cancel). `job` must be as the caller just read or
    stored it. Returns the job as last stored or read; one that may have changed since (a
    cancel from another replica) is re-read by the next `update`, a compare-and-swap."""
    request_id = job.fal_request_id or ""
    watch = None if policy.webhooks else getattr(lifecycle.gateway, "watch", None)
    openings = STREAM_OPENINGS if watch is not None else 0
    interval = policy.poll_interval
    failures = 0
    shown = _Shown()
    fresh = not policy.webhooks  # nothing awaited since the caller's read: no need to re-read
    first_poll = True
    while True:
        # A webhook already announced (a resumed job): no wait for the next one.
        waits = policy.webhooks and not announced(job)
        woken = waits and await woken_within(wake, policy.fallback_seconds)
        if not fresh:
            job = await lifecycle.reload(job)
        fresh = False
        if _settled(job) or announced(job):
            return job
        if woken:
            continue  # woken by a cancel: the stored state was just looked at
        if openings and watch is not None:
            try:
                return await _streamed(lifecycle, job, watch(request_id), wake, announced, shown)
            except StreamBusy:
                pass  # every stream is in use: poll this time, try again at the next look
            except StreamBroken as broken:
                openings = openings - 1 if broken.retry else 0
                log.info("job %s: %s (%s)", job.id, broken.reason, _next_try(openings))
                wait = min(max(policy.poll_interval, broken.retry_after or 0), MAX_RETRY_AFTER)
                await woken_within(wake, wait)
                continue
        if first_poll and not policy.webhooks:
            first_poll = False
            # The submit was a look too (fal said it queued the request): the first poll
            # comes one interval after it, not at once (then: is a stream free by now?).
            early = policy.poll_interval - _seconds_since_submit(lifecycle, job)
            if early > 0:
                await woken_within(wake, early)
                continue
        try:
            status: FalStatus | None = await lifecycle.gateway.status(request_id)
            failures = 0
        except FalUnavailable:
            failures += 1
            if failures >= MAX_FOLLOW_FAILURES:
                raise
            status = None
        if status is not None and status.state == "COMPLETED":
            return await _latest(lifecycle, job, wake)
        if status is not None:
            job, shown.last = await _show(lifecycle, job, status, shown.last)
        if not policy.webhooks:
            await woken_within(wake, interval)
            interval = min(interval * POLL_GROWTH, max(MAX_POLL_SECONDS, policy.poll_interval))


async def _latest(lifecycle: Lifecycle, job: Job, wake: asyncio.Event) -> Job:
    """`job`, re-read only when a wake-up (a cancel here) came since it was read: the caller
    must not mistake a job settled meanwhile for one still at fal."""
    return await lifecycle.reload(job) if wake.is_set() else job


def _seconds_since_submit(lifecycle: Lifecycle, job: Job) -> float:
    if job.submitted_at is None:
        return float("inf")
    return (lifecycle.clock() - job.submitted_at).total_seconds()


def _settled(job: Job) -> bool:
    return job.state in FINAL and job.finished_at is not None


def _next_try(openings: int) -> str:
    return "reconnecting" if openings else "polling from now on"


async def _streamed(
    lifecycle: Lifecycle,
    job: Job,
    statuses: AsyncIterator[FalStatus],
    wake: asyncio.Event,
    announced: Callable[[Job], bool],
    shown: _Shown,
) -> Job:
    """Show each streamed status until COMPLETED, or until a wake-up (a confirmed cancel)
    finds the job settled; returns the stored job. Raises StreamBroken as the stream does."""

    async def waited(job: Job) -> Job:
        # fal's stream is silent while the job waits for a machine: show the wait growing.
        if shown.status is not None and shown.status.state == "IN_QUEUE":
            job, shown.last = await _show(lifecycle, job, shown.status, shown.last)
        return job

    try:
        while True:
            status, job = await _next_or_settled(lifecycle, job, statuses, wake, announced, waited)
            if status is None:
                return job
            if status.state == "COMPLETED":
                return await _latest(lifecycle, job, wake)
            job, shown.last = await _show(lifecycle, job, status, shown.last)
            shown.status = status
    finally:
        close = getattr(statuses, "aclose", None)  # an async generator: end its request
        if close is not None:
            await close()


async def _next_or_settled(
    lifecycle: Lifecycle,
    job: Job,
    statuses: AsyncIterator[FalStatus],
    wake: asyncio.Event,
    announced: Callable[[Job], bool],
    quiet: Callable[[Job], Awaitable[Job]],
) -> tuple[FalStatus | None, Job]:
    """The stream's next status (None when a wake-up finds the job settled first) and the job
    as last read: re-read after each wake-up, so what is shown next knows of a cancel asked.
    `quiet` is called after each `QUIET_SECONDS` without either."""
    step = asyncio.ensure_future(anext(statuses))
    try:
        while True:
            waker = asyncio.ensure_future(wake.wait())
            try:
                done, _ = await asyncio.wait(
                    {step, waker}, timeout=QUIET_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                waker.cancel()
            if step.done():
                break
            if not done:
                job = await quiet(job)
                continue
            wake.clear()
            job = await lifecycle.reload(job)
            if _settled(job) or announced(job):
                return None, job
        try:
            return step.result(), job
        except StopAsyncIteration:
            raise StreamBroken("the status stream ended before the request completed") from None
    finally:
        if not step.done():
            step.cancel()
            with suppress(asyncio.CancelledError):
                await step


@dataclass(slots=True)
class _Shown:
    """The last event shown for the job, so an unchanged status is not shown twice, and the
    streamed status it came from (shown again as the wait in the queue grows)."""

    last: JobEvent | None = None
    status: FalStatus | None = None


async def _show(
    lifecycle: Lifecycle, job: Job, status: FalStatus, last: JobEvent | None
) -> tuple[Job, JobEvent]:
    now = lifecycle.clock()
    if status.state == "IN_PROGRESS" and job.state is JobState.SUBMITTED:
        job = await lifecycle.update(
            job,
            lambda j: (
                j.advance(JobState.RUNNING, now, started_at=now)
                if j.state is JobState.SUBMITTED
                else None
            ),
        )
    if status.state == "IN_QUEUE":
        # Whole minutes: a poll that sees only the seconds move edits no message.
        waited = None if job.submitted_at is None else (now - job.submitted_at) // MINUTE
        event: JobEvent = Queued(status.queue_position, waited)
    else:
        started = job.started_at or now
        line = status.logs[-1] if status.logs else None
        event = Running((now - started).total_seconds(), line, progress_fraction(status.logs))
    if event != last and job.state in AT_FAL:
        job = await lifecycle.publish(job, event)
    return job, event


async def woken_within(event: asyncio.Event, timeout: float) -> bool:
    """True when `event` was set within `timeout` seconds (then cleared for the next wait)."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    event.clear()
    return True


def progress_fraction(logs: tuple[str, ...]) -> float | None:
    """A share done from the newest log line that reads like "step 12/40"."""
    for line in reversed(logs):
        match = _STEP.search(line)
        if match and int(match[2]) > 0:
            return min(1.0, int(match[1]) / int(match[2]))
    return None
