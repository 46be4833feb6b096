"""Simulated time: the waits of every job, frozen while the simulator is paused and cut short
when a test finishes the job."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress

from bot.fal.simulated.jobs import SimJob


class SimClock:
    """`pause()` freezes every job where it stands (queue position, step) until `resume()`."""

    def __init__(self) -> None:
        self._resumed = asyncio.Event()
        self._resumed.set()

    def pause(self) -> None:
        self._resumed.clear()

    def resume(self) -> None:
        self._resumed.set()

    async def sleep(self, job: SimJob, seconds: float) -> None:
        """Wait `seconds` of simulated time: stalls while paused, ends early on `job.skip`."""
        while not self._resumed.is_set() and not job.skip.is_set():
            await _first_of(self._resumed.wait, job.skip.wait)
        if job.skip.is_set() or seconds <= 0:
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(job.skip.wait(), seconds)


async def _first_of(*waiters: Callable[[], Awaitable[object]]) -> None:
    tasks = [asyncio.ensure_future(wait()) for wait in waiters]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
