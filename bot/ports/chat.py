"""`Poster`: what each chat adapter (Discord, Slack, the terminal) does with a job's events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from bot.events import JobEvent, Succeeded
from bot.jobs.record import Job
from bot.model import Reply


class DeliveryRoute(StrEnum):
    """How the requester got the video."""

    THREAD = "thread"  # uploaded where the job's messages are (its thread or channel)
    LINK = "link"  # a link where the job's messages are (the upload was refused)
    DIRECT = "direct"  # a direct message to the requester (the thread refused)
    DIRECT_LINK = "direct_link"  # a link in a direct message
    FILE = "file"  # the terminal: a file on disk


@dataclass(frozen=True, slots=True)
class Delivery:
    message_id: str
    route: DeliveryRoute = DeliveryRoute.THREAD


class DeliveryAttempt(Protocol):
    """One job's delivery as it is recorded on the job: the poster notes each step with
    `mark` before taking it, so a try after a crash knows what may be posted already."""

    @property
    def key(self) -> str:
        """The idempotency key, the same on every try of this job (at most 25 characters:
        it is Discord's message nonce)."""
        ...

    @property
    def marks(self) -> Mapping[str, str]:
        """What earlier steps noted (this try's and those of tries before a crash)."""
        ...

    @property
    def resumed(self) -> bool:
        """An earlier try noted a step: the video may already be posted."""
        ...

    async def mark(self, **marks: str) -> None:
        """Store these notes with the job; returns once they are stored."""
        ...


class Poster(Protocol):
    """What an adapter does with a job's events. Built from the job's Origin alone, so it works
    after a restart without the interaction that started the job."""

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        """Show the event (create or edit the status message); returns the status message id.
        An ending that cannot be shown there goes to the requester privately."""
        ...

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: DeliveryAttempt | None = None
    ) -> Delivery:
        """Get the finished video to the requester: the job's thread, else a link there, else
        a direct message. Raises `bot.errors.Undeliverable` when every way refused for good;
        any other error is taken as passing (the delivery is tried again later). `attempt`
        (the lifecycle's, stored with the job; None: kept in memory) makes it exactly once:
        a resumed attempt first looks whether its post is already there."""
        ...

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        """Post a Reply (with its buttons) to a channel of the scope, outside any job: the
        admin channel's approval requests and pool alerts, a requester's decision. Returns the
        message id."""
        ...


@runtime_checkable
class TakesPoster(Protocol):
    """A Poster that can post a request's takes in one message (Discord: up to 10 files)."""

    async def deliver_takes(
        self,
        leader: Job,
        takes: Sequence[tuple[Job, Path, Succeeded]],
        attempt: DeliveryAttempt | None = None,
        ended: Sequence[Job] = (),
    ) -> Delivery:
        """Every finished take in one message in the thread of `leader` (take 1's record, whose
        status message the takes share), each numbered with its seed and with its own
        buttons; else privately. Raises `bot.errors.Undeliverable` like `Poster.deliver`.
        `attempt` (recorded on the take that posts, with take 1's key) as in `deliver`.
        `ended`: the takes that failed or were cancelled, shown in the post and the status
        with their reason and what went back to the budget."""
        ...
