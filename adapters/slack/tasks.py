"""Work started after a 3-second ack, kept so none is dropped or garbage-collected mid-way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    """A set of tasks that outlive the request which started them.

    bolt's lazy listeners fire `asyncio.ensure_future` and forget the task; here every task is
    kept until it ends, its failure is logged, and `close()` waits for (or cancels) the rest.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("slack task %s failed", task.get_name(), exc_info=task.exception())

    async def wait_idle(self) -> None:
        """Until no task is running (tests wait on this instead of sleeping)."""
        while self._tasks:
            await self._idle.wait()

    async def close(self, timeout: float = 10) -> None:
        """Let running work finish for up to `timeout` seconds, then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
