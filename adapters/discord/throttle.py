"""At most one status edit per job every `interval` seconds, and the newest state always shown.

Discord tolerates about five edits per five seconds per channel; progress arrives faster than
that. An edit that comes too soon is parked; a single flush per job later applies the newest
parked one. Time and sleeping are injected, so tests drive them without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
Edit = Callable[[], Awaitable[object]]
DEFAULT_INTERVAL = 1.5


class EditThrottle:
    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last: dict[str, float] = {}
        self._parked: dict[str, Edit] = {}
        self._flushers: dict[str, asyncio.Task[None]] = {}

    def mark(self, key: str) -> None:
        """A write just happened (the message was created): the next edit waits its turn."""
        self._last[key] = self.clock()

    async def submit(self, key: str, edit: Edit) -> None:
        """Run `edit` now if the job's slot is free, else park it for the flush (newest wins)."""
        wait = self._wait(key)
        if wait <= 0 and key not in self._flushers:
            self._last[key] = self.clock()
            await edit()
            return
        self._parked[key] = edit
        if key not in self._flushers:
            self._flushers[key] = asyncio.create_task(self._flush(key), name=f"edit-flush-{key}")

    def pending(self, key: str) -> bool:
        return key in self._flushers

    def _wait(self, key: str) -> float:
        last = self._last.get(key)
        return 0.0 if last is None else last + self.interval - self.clock()

    async def _flush(self, key: str) -> None:
        try:
            while key in self._parked:
                wait = self._wait(key)
                if wait > 0:
                    await self.sleep(wait)
                    continue
                edit = self._parked.pop(key)
                self._last[key] = self.clock()
                try:
                    await edit()
                except Exception:
                    log.exception("status edit for %s failed", key)
        finally:
            self._flushers.pop(key, None)

    async def drain(self) -> None:
        """Wait until every parked edit has run at its turn."""
        while self._flushers:
            await asyncio.gather(*self._flushers.values(), return_exceptions=True)

    async def close(self) -> None:
        """At shutdown, apply each job's newest parked edit now instead of at its turn."""
        flushers = list(self._flushers.values())
        for task in flushers:
            task.cancel()
        for task in flushers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        parked, self._parked = self._parked, {}
        for key, edit in parked.items():
            try:
                await edit()
            except Exception:
                log.exception("status edit for %s failed at shutdown", key)

    def forget(self, key: str) -> None:
        """The job ended and nothing is parked: drop its bookkeeping."""
        if key not in self._flushers:
            self._last.pop(key, None)
