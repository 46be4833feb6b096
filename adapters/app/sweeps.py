"""The periodic work of `ltxbot run`: every 5 minutes the hold sweep (holds of jobs that ended
without closing them), every hour the retention sweep (files past LTXBOT_RETENTION_DAYS), and
every half job lease the takeover pass (jobs of replicas that died or stopped)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.settings import Settings

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 300
RETENTION_EVERY = 12  # hold sweeps: hourly


@asynccontextmanager
async def periodic_work(
    holds: Callable[[], Awaitable[object]],
    retention: Callable[[], Awaitable[object]],
    take_over: Callable[[], Awaitable[object]],
    settings: Settings,
) -> AsyncIterator[None]:
    """The sweeps and the takeover pass run in kept tasks while inside; stopped on exit."""
    tasks = [
        asyncio.create_task(sweep_forever(holds, retention), name="ltxbot-sweep"),
        asyncio.create_task(
            take_over_forever(take_over, interval=settings.job_lease_seconds / 2),
            name="ltxbot-takeover",
        ),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def sweep_forever(
    holds: Callable[[], Awaitable[object]],
    retention: Callable[[], Awaitable[object]],
    *,
    interval: float = SWEEP_INTERVAL_SECONDS,
) -> None:
    """Run until cancelled; a sweep that fails is logged and tried again at its next turn."""
    for turn in itertools.count():
        await asyncio.sleep(interval)  # a schedule, not a wait for a condition
        await _quietly(holds, "hold sweep")
        if turn % RETENTION_EVERY == 0:  # the first turn too: a restart does not wait an hour
            await _quietly(retention, "retention sweep")


async def take_over_forever(take_over: Callable[[], Awaitable[object]], *, interval: float) -> None:
    """Run until cancelled: every `interval`, claim and resume the jobs whose lease ran out
    (twice per lease, so a dead replica's jobs wait at most a lease and a half)."""
    while True:
        await asyncio.sleep(interval)  # a schedule, not a wait for a condition
        await _quietly(take_over, "takeover pass")


async def _quietly(sweep: Callable[[], Awaitable[object]], name: str) -> None:
    try:
        await sweep()
    except Exception:
        log.exception("%s failed; will try again", name)
