"""Helpers for the Discord adapter tests: a real adapter on a fake Discord, virtual time,
interactions delivered the way discord.py's gateway hands them over."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from adapters.discord import DiscordAdapter
from adapters.discord.throttle import EditThrottle
from bot.events import Cancelled, JobEvent
from bot.jobs.record import Job, JobState, Rendered, Result
from bot.model import Platform
from bot.money import Money
from bot.ports import KeyValueStore
from bot.settings import Settings
from commands import Commands
from commands.context import Services
from storage import open_storage
from tests.clocks import Clock
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import Call, FakeDiscord
from tests.services import services_on

GUILD, CHANNEL = "900000000000000001", "900000000000000002"
ALICE = o.member("800000000000000001", "alice")
BOB = o.member("800000000000000002", "bob")
ADMIN = o.member("800000000000000003", "root", permissions=o.MEMBER_PERMISSIONS | o.MANAGE_GUILD)
ADMIN_CHANNEL = "900000000000000009"  # where approval requests go once an admin says so
SMALL = {"prompt": "the chef tosses pasta", "resolution": "256x160", "num_frames": 9}


@dataclass
class VirtualTime:
    """A monotonic clock and a sleep that only move when the test says so."""

    now: float = 1000.0
    sleepers: list[tuple[float, asyncio.Future[None]]] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.now + seconds, future))
        await future

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for deadline, future in list(self.sleepers):
            if deadline <= self.now and not future.done():
                future.set_result(None)
                self.sleepers.remove((deadline, future))


@dataclass
class RecordingRunner:
    """Stands in for bot.jobs.supervisor.Supervisor where a test drives the poster itself."""

    started: list[Job] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    async def start(self, job: Job) -> None:
        self.started.append(job)

    async def cancel(self, job_id: str) -> Cancelled | None:
        self.cancelled.append(job_id)
        return Cancelled(Money.usd("0.25"))


@dataclass
class Kit:
    fake: FakeDiscord
    adapter: DiscordAdapter
    commands: Commands
    services: Services
    runner: RecordingRunner
    time: VirtualTime
    settings: Settings
    store: KeyValueStore  # the database's, as adapters.app.core wires it

    def deliver(self, payload: dict[str, Any], adapter: DiscordAdapter | None = None) -> None:
        """Hand an INTERACTION_CREATE to discord.py, as its gateway does."""
        (adapter or self.adapter).client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

    def slash(
        self, sub: str, member: dict[str, Any] = ALICE, channel: str = CHANNEL,
        sheet: dict[str, Any] | None = None, **options: object,
    ) -> dict[str, Any]:  # fmt: skip
        data = ix.slash_data("ltx", sub, options, attachments={"sheet": sheet} if sheet else None)
        return self.fake.interaction(ix.APPLICATION_COMMAND, channel, member, data)

    def admin(self, sub: str, member: dict[str, Any] = ADMIN, **options: object) -> dict[str, Any]:
        """`/ltx-admin <sub> name:value ...` in CHANNEL: its own top-level command."""
        data = ix.slash_data("ltx-admin", sub, options)
        return self.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, member, data)

    def sheet(
        self, data: bytes, name: str = "sheet.png", content_type: str | None = "image/png",
        size: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        url = self.fake.host(name, data, content_type or "application/octet-stream")
        return o.attachment(o.snowflake(), name, len(data) if size is None else size, url,
                            content_type)  # fmt: skip

    async def answer(self, payload: dict[str, Any]) -> str:
        """The text the user finally sees for an interaction (the edited deferred message)."""
        calls = await self.fake.wait_for(
            lambda: [c for c in self.fake.webhook_calls(payload) if c.method == "PATCH"]
        )
        return calls[-1].body["content"]

    async def held_job(self, member: dict[str, Any] = ALICE, **options: object) -> Job:
        """Run `/ltx generate` with a good sheet; the job the runner was handed."""
        payload = self.slash("generate", member, sheet=self.sheet(png()), **{**SMALL, **options})
        self.deliver(payload)
        assert "Held" in await self.answer(payload)
        return self.runner.started[-1]

    async def show(
        self, job: Job, event: JobEvent, adapter: DiscordAdapter | None = None
    ) -> tuple[Job, str]:
        """What the runner does with an event: show it, store the status message id."""
        poster = (adapter or self.adapter).poster
        status_id = await poster.progress(job, event)
        assert status_id is not None
        if job.origin.status_message_id != status_id:
            job = job.with_changes(
                self.services.clock(),
                origin=job.origin.model_copy(update={"status_message_id": status_id}),
            )
        return job, status_id

    def writes(self) -> list[Call]:
        """Message creations and edits on the bot token (not the interaction webhook)."""
        return [c for c in self.fake.calls if c.path.startswith("/channels/")
                and c.method in ("POST", "PATCH")]  # fmt: skip

    @asynccontextmanager
    async def restarted(self) -> AsyncIterator[DiscordAdapter]:
        """A second adapter on the same core, as after a restart: nothing in memory."""
        async with running_adapter(self.settings, self.commands, self.time, self.store) as adapter:
            yield adapter


def finished(job: Job, clock: Clock, url: str = "https://v3.fal.media/files/x/video.mp4") -> Job:
    """The job as the runner leaves it after fal answered and the video was probed."""
    rendered = Rendered(width=256, height=160, num_frames=9, frames_per_second=24,
                        duration_seconds=0.375, has_audio=True, file_size=1000)  # fmt: skip
    result = Result(video_url=url, seed=42, rendered=rendered)
    job = job.advance(JobState.SUBMITTED, clock()).advance(JobState.RUNNING, clock())
    return job.advance(JobState.SUCCEEDED, clock(), result=result, captured_nanos=job.quoted_nanos)


def png(width: int = 640, height: int = 384) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def settings_for(fake: FakeDiscord, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"discord_token": fake.token, "discord_api_url": fake.api_url,
                              "discord_guild_ids": GUILD, **overrides}  # fmt: skip
    return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_adapter(
    settings: Settings, commands: Commands, time: VirtualTime, store: KeyValueStore
) -> AsyncIterator[DiscordAdapter]:
    throttle = EditThrottle(1.5, clock=time, sleep=time.sleep)
    adapter = DiscordAdapter(settings, commands, store=store, throttle=throttle, gateway=False)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


@asynccontextmanager
async def kit_for(data_dir: Path, **overrides: Any) -> AsyncIterator[Kit]:
    """A real adapter on a fake Discord over a core with stored policy (admin commands and
    approvals need it), the adapter's poster in the services as adapters.app.core.serve wires it."""
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        fake.add_channel(ADMIN_CHANNEL, GUILD)
        settings = settings_for(fake, data_dir, **overrides)
        storage = await open_storage(f"sqlite:///{data_dir / 'db.sqlite3'}")
        clock = Clock()
        runner = RecordingRunner()
        services = services_on(storage, settings, runner, clock)
        commands = Commands(services)
        time = VirtualTime()
        try:
            async with running_adapter(settings, commands, time, storage.keyvalue) as adapter:
                services.posters[Platform.DISCORD] = adapter.poster
                yield Kit(
                    fake, adapter, commands, services, runner, time, settings, storage.keyvalue
                )
        finally:
            await storage.close()
