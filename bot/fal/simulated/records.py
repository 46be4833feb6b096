"""What the simulated fal saw, kept for tests to read and wait on: every submit, every status
look, every webhook delivery attempt."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from bot.fal.simulated.jobs import Submission
from bot.fal.simulated.webhooks import WebhookDelivery


@dataclass(frozen=True, slots=True)
class Look:
    """One status request: `kind` is "poll" or "stream"; `at` is time.monotonic()."""

    at: float
    kind: str
    request_id: str


class LookLog(deque[Look]):
    """The latest status polls and streams, in order, with their times (bounded: a long-running
    simulator would otherwise keep every one)."""

    def __init__(self) -> None:
        super().__init__(maxlen=100_000)

    def record(self, kind: str, request_id: str) -> None:
        self.append(Look(time.monotonic(), kind, request_id))


class SubmissionLog(list[Submission]):
    """Every submit the server received, in order."""

    def __init__(self) -> None:
        super().__init__()
        self._grown = asyncio.Condition()

    async def add(self, submission: Submission) -> None:
        async with self._grown:
            self.append(submission)
            self._grown.notify_all()

    # The fixed API takes `timeout=`; it is applied with asyncio.timeout inside.
    async def wait_for(self, n: int, timeout: float) -> list[Submission]:
        """Wait until at least `n` submits arrived; returns them all."""
        async with asyncio.timeout(timeout), self._grown:
            await self._grown.wait_for(lambda: len(self) >= n)
        return list(self)


class DeliveryLog(list[WebhookDelivery]):
    """The webhook attempts so far; `changed` is set at each one."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def append(self, delivery: WebhookDelivery) -> None:
        super().append(delivery)
        self.changed.set()

    async def wait_for(self, n: int, timeout: float) -> list[WebhookDelivery]:
        """Wait until at least `n` delivery attempts were answered (or failed)."""
        async with asyncio.timeout(timeout):
            while len(self) < n:
                self.changed.clear()
                await self.changed.wait()
        return list(self)
