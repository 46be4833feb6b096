"""A bot process that dies at one step of delivery, for the exactly-once tests.

`Dying` wraps an adapter's real poster. At `BEFORE_POST` it lets the attempt store its first
note (Discord: the channel; Slack: the uploaded file's id) and then stops before the post (the
send, the share's completion); at
`AFTER_POST` it lets the platform accept the whole post and stops before DELIVERED (and the
capture) are stored. Stopping is a cancelled task, as when the process is killed: nothing after
it runs, the lease is not handed back. A new core on the same database then resumes the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.events import JobEvent, Succeeded
from bot.jobs.delivery import MemoryAttempt
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryAttempt, Poster, TakesPoster


class Step(StrEnum):
    # The attempt noted, nothing posted (Slack: the file uploaded, its share not completed).
    BEFORE_POST = "before the post"
    AFTER_POST = "after the post"  # the platform has it; DELIVERED not stored


class _DyingAttempt:
    """Passes every note on; stops the process once `dies_after` notes are stored."""

    def __init__(self, attempt: DeliveryAttempt, dies_after: int, died: asyncio.Event) -> None:
        self._attempt, self._left, self._died = attempt, dies_after, died

    @property
    def key(self) -> str:
        return self._attempt.key

    @property
    def marks(self) -> Mapping[str, str]:
        return self._attempt.marks

    @property
    def resumed(self) -> bool:
        return self._attempt.resumed

    async def mark(self, **marks: str) -> None:
        await self._attempt.mark(**marks)  # stored: the crash comes after it
        self._left -= 1
        if self._left == 0:
            self._died.set()
            raise asyncio.CancelledError


class Dying:
    """A Poster that dies at `step` of its first delivery; `died` is set when it does."""

    def __init__(self, poster: Poster, step: Step) -> None:
        self.poster, self.step = poster, step
        self.died = asyncio.Event()

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        return await self.poster.progress(job, event)

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        return await self.poster.announce(scope=scope, channel_id=channel_id, reply=reply)

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: DeliveryAttempt | None = None
    ) -> Delivery:
        attempt = attempt or MemoryAttempt(job)
        if self.step is Step.BEFORE_POST:
            attempt = _DyingAttempt(attempt, 1, self.died)
        await self.poster.deliver(job, video, event, attempt)
        self.died.set()
        raise asyncio.CancelledError  # AFTER_POST: accepted, and nothing of ours after it

    async def deliver_takes(
        self,
        leader: Job,
        takes: Sequence[tuple[Job, Path, Succeeded]],
        attempt: DeliveryAttempt | None = None,
        ended: Sequence[Job] = (),
    ) -> Delivery:
        """A request's takes in one post (bot.ports.TakesPoster), dying like `deliver`."""
        attempt = attempt or MemoryAttempt(leader)
        if self.step is Step.BEFORE_POST:
            attempt = _DyingAttempt(attempt, 1, self.died)
        assert isinstance(self.poster, TakesPoster)
        await self.poster.deliver_takes(leader, takes, attempt, ended)
        self.died.set()
        raise asyncio.CancelledError

    def __getattr__(self, name: str) -> Any:
        return getattr(self.poster, name)
