"""The periodic work of `ltxbot run`: every 5 minutes the hold sweep (holds of jobs that ended
without closing them), and every hour the retention sweep (files past LTXBOT_RETENTION_DAYS)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 300
RETENTION_EVERY = 12  # hold sweeps: hourly


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


async def _quietly(sweep: Callable[[], Awaitable[object]], name: str) -> None:
    try:
        await sweep()
    except Exception:
        log.exception("%s failed; will try again", name)
