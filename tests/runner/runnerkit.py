"""A whole core on a simulated fal, with a poster that records what the user would see."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.app.core import Core, build_core, utc_now
from bot.errors import Undeliverable
from bot.events import Cancelled, Failed, JobEvent, Succeeded
from bot.fal.on_simulated import gateway_on_simulated
from bot.fal.retry import RetryPolicy
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job
from bot.model import Actor, Attachment, Invocation, Place, Platform
from bot.ports import Clock, Delivery, EntryKind
from bot.settings import Settings

SHEET = Path(__file__).resolve().parents[2] / "examples" / "chef-sheet.png"
ALICE = Actor(Platform.CONSOLE, "local", "alice", "Alice")
PLACE = Place(Platform.CONSOLE, "local", "terminal")
SMALL = {"prompt": "the chef tosses pasta", "resolution": "256x160", "num_frames": 9}
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)


@dataclass
class RecordingPoster:
    """Every event and delivery, and a future per job that resolves when the job ends."""

    events: list[tuple[str, JobEvent]] = field(default_factory=list)
    deliveries: list[tuple[str, Path]] = field(default_factory=list)
    endings: dict[str, asyncio.Future[JobEvent]] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    undeliverable: str | None = None  # deliver refuses for good with this reason

    async def wait_for_event(self, job_id: str, kind: type, timeout: float = 10) -> JobEvent:
        """The first event of `kind` shown for the job (waits for it)."""

        def found() -> JobEvent | None:
            return next((e for j, e in self.events if j == job_id and isinstance(e, kind)), None)

        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: found() is not None)
        event = found()
        assert event is not None
        return event

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def ending(self, job_id: str) -> asyncio.Future[JobEvent]:
        return self.endings.setdefault(job_id, asyncio.get_running_loop().create_future())

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        self.events.append((job.id, event))
        if isinstance(event, Failed | Cancelled) and not self.ending(job.id).done():
            self.ending(job.id).set_result(event)
        await self._notify()
        return f"status-{job.id}"

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: object = None
    ) -> Delivery:
        assert isinstance(event, Succeeded)
        if self.undeliverable is not None:
            raise Undeliverable(self.undeliverable)
        self.deliveries.append((job.id, video))
        if not self.ending(job.id).done():
            self.ending(job.id).set_result(event)
        return Delivery(f"result-{job.id}")


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **overrides)  # type: ignore[call-arg]


@asynccontextmanager
async def paid_core(
    data_dir: Path,
    fal: SimulatedFal,
    poster: RecordingPoster,
    *,
    clock: Clock = utc_now,
    **settings: Any,
) -> AsyncIterator[Core]:
    """A core whose gateway talks to `fal` as if it were the real, paid one (captures money)."""
    config = settings_for(data_dir, **settings)
    gateway = gateway_on_simulated(config, fal, retry=FAST_RETRY)
    gateway.simulated = False
    try:
        async with build_core(config, clock=clock, gateway=gateway, poll_interval=0.05) as core:
            core.posters[Platform.CONSOLE] = poster
            yield core
    finally:
        await gateway.aclose()


async def generate(core: Core, **options: Any) -> str:
    """Run the generate command as Alice; returns the job id (asserts it was accepted)."""
    invocation = Invocation(
        "generate", ALICE, PLACE, {**SMALL, **options}, Attachment.from_path(SHEET)
    )
    reply = await core.commands.dispatch(invocation)
    assert reply.job_id is not None, reply.text
    return reply.job_id


async def kinds(core: Core, job_id: str) -> list[EntryKind]:
    entries = await core.storage.ledger.entries(scope=ALICE.scope_key)
    return [entry.kind for entry in entries if entry.ref == job_id]
