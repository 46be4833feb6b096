"""`Poster`: what each chat adapter (Discord, Slack, the terminal) does with a job's events."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.events import JobEvent
from bot.jobs.record import Job
from bot.model import Reply


class Poster(Protocol):
    """What an adapter does with a job's events. Built from the job's Origin alone, so it works
    after a restart without the interaction that started the job."""

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        """Show the event (create or edit the status message); returns the status message id."""
        ...

    async def deliver(self, job: Job, video: Path, event: JobEvent) -> str:
        """Post the finished video into the thread; returns the result message id."""
        ...

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        """Post a Reply (with its buttons) to a channel of the scope, outside any job: the
        admin channel's approval requests and pool alerts, a requester's decision. Returns the
        message id."""
        ...
