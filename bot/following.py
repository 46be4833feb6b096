"""Following one job at fal until it ends, showing queue position and progress on the way.

fal_client's own handles poll every 0.1 s; here the interval starts at `poll_interval` and
grows to `MAX_POLL_SECONDS` (at most one status request per 2 s per job by default). With
webhooks nothing is polled: the task sleeps until the verified callback (or a cancel) wakes it,
and looks itself only every `fallback_seconds`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.delivery import Lifecycle
from bot.events import JobEvent, Queued, Running
from bot.fal_errors import FalUnavailable
from bot.jobs import AT_FAL, FINAL, Job, JobState
from bot.ports import FalStatus

S = JobState
# fal may be unreachable for a while; give up after this many failed looks in a row.
MAX_FOLLOW_FAILURES = 10
POLL_GROWTH, MAX_POLL_SECONDS = 1.5, 10.0
_STEP = re.compile(r"(\d+)\s*/\s*(\d+)")


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
    announced: Callable[[], bool],
) -> Job:
    """Until fal says the request ended (`announced()` is true once its webhook came), or the
    job was settled elsewhere (a confirmed cancel). Returns the stored job."""
    request_id = job.fal_request_id or ""
    interval = policy.poll_interval
    failures = 0
    last: JobEvent | None = None
    while True:
        woken = policy.webhooks and await woken_within(wake, policy.fallback_seconds)
        job = await lifecycle.reload(job)
        if (job.state in FINAL and job.finished_at is not None) or announced():
            return job
        if woken:
            continue  # woken by a cancel: the stored state was just looked at
        try:
            status: FalStatus | None = await lifecycle.gateway.status(request_id)
            failures = 0
        except FalUnavailable:
            failures += 1
            if failures >= MAX_FOLLOW_FAILURES:
                raise
            status = None
        if status is not None and status.state == "COMPLETED":
            return job
        if status is not None:
            job, last = await _show(lifecycle, job, status, last)
        if not policy.webhooks:
            await woken_within(wake, interval)
            interval = min(interval * POLL_GROWTH, max(MAX_POLL_SECONDS, policy.poll_interval))


async def _show(
    lifecycle: Lifecycle, job: Job, status: FalStatus, last: JobEvent | None
) -> tuple[Job, JobEvent]:
    now = lifecycle.clock()
    if status.state == "IN_PROGRESS" and job.state is S.SUBMITTED:
        job = await lifecycle.update(
            job,
            lambda j: j.advance(S.RUNNING, now, started_at=now) if j.state is S.SUBMITTED else None,
        )
    if status.state == "IN_QUEUE":
        event: JobEvent = Queued(status.queue_position)
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
