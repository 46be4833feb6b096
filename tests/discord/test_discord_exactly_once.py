"""Delivery exactly once on Discord: the bot dies at a step of posting the video, a new core on
the same database resumes, and the thread holds one copy of the video and the ledger one capture.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from discordkit import ALICE, CHANNEL, GUILD, SMALL, settings_for

from adapters.app.core import Core, build_core
from adapters.discord import DiscordAdapter
from adapters.discord.throttle import EditThrottle
from bot.events import Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.delivery import MemoryAttempt
from bot.jobs.record import Job, JobState
from bot.model import Platform
from bot.money import Money
from bot.ports import EntryKind
from tests.crashkit import Dying, Step
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord
from tests.paid import paid_core_on

SHEET = Path(__file__).resolve().parents[2] / "examples" / "chef-sheet.png"


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


@asynccontextmanager
async def bot(
    fake: FakeDiscord, tmp_path: Path, fal: SimulatedFal
) -> AsyncIterator[tuple[Core, DiscordAdapter]]:
    """One bot process: a paying core and its Discord adapter (a fixed replica id, so a
    restart takes its own leases back at once)."""
    settings = settings_for(fake, tmp_path, replica_id="replica-1")
    async with paid_core_on(settings, fal) as core:
        adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue,
                                 throttle=EditThrottle(0), gateway=False)  # fmt: skip
        core.posters[Platform.DISCORD] = adapter.poster
        await adapter.start()
        try:
            yield core, adapter
        finally:
            await adapter.close()


def generate(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    data = SHEET.read_bytes()
    url = fake.host("chef-sheet.png", data, "image/png")
    sheet = o.attachment(o.snowflake(), "chef-sheet.png", len(data), url, "image/png")
    data_ = ix.slash_data("ltx", "generate", SMALL, attachments={"sheet": sheet})
    payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data_)
    adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]


def videos_in(fake: FakeDiscord, channel_id: str, job_id: str) -> list[dict[str, Any]]:
    """The messages in a channel carrying this job's MP4."""
    name = f"ltx-{job_id}.mp4"
    return [m for m in fake.stored_in(channel_id)
            if any(a["filename"] == name for a in m["attachments"])]  # fmt: skip


async def ledger_kinds(core: Core, job: Job) -> list[EntryKind]:
    entries = await core.storage.ledger.entries(scope=f"discord:{GUILD}")
    return [entry.kind for entry in entries if entry.ref == job.id]


@pytest.mark.parametrize(
    ("step", "nonce_window"),
    [
        (Step.BEFORE_POST, 300.0),
        (Step.AFTER_POST, 300.0),  # Discord still dedups the nonce
        (Step.AFTER_POST, 0.0),  # resumed after the nonce window: found in the thread
    ],
)
async def test_a_crash_at_each_step_of_delivery_leaves_one_video_and_one_capture(
    tmp_path: Path, fal: SimulatedFal, step: Step, nonce_window: float
) -> None:
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        fake.nonce_window = nonce_window
        async with bot(fake, tmp_path, fal) as (core, adapter):
            dying = Dying(adapter.poster, step)
            core.posters[Platform.DISCORD] = dying  # type: ignore[assignment]
            generate(fake, adapter)
            await asyncio.wait_for(dying.died.wait(), 30)
            [job] = await core.storage.jobs.in_states([JobState.SUCCEEDED])
            await core.supervisor.wait(job.id)
        thread = job.origin.status_message_id or ""
        assert len(videos_in(fake, thread, job.id)) == (1 if step is Step.AFTER_POST else 0)
        stored = await _job(tmp_path, fake, job.id)
        assert stored.state is JobState.SUCCEEDED and stored.delivery is not None
        async with bot(fake, tmp_path, fal) as (core, adapter):
            assert await core.supervisor.resume(core.posters) == [job.id]
            await asyncio.wait_for(core.supervisor.wait(job.id), 30)
            done = await core.storage.jobs.get(job.id)
            kinds = await ledger_kinds(core, job)
    [video] = videos_in(fake, thread, job.id)
    assert done is not None and done.state is JobState.DELIVERED
    assert done.origin.result_message_id == video["id"]
    assert kinds == [EntryKind.HOLD, EntryKind.CAPTURE]


async def _job(tmp_path: Path, fake: FakeDiscord, job_id: str) -> Job:
    settings = settings_for(fake, tmp_path)
    async with build_core(settings, with_fal=False) as core:
        job = await core.storage.jobs.get(job_id)
    assert job is not None
    return job


async def test_the_same_nonce_within_discords_window_makes_no_second_message(
    tmp_path: Path, fal: SimulatedFal
) -> None:
    """Two tries that both post (the first one's answer lost): Discord's enforce_nonce
    answers the second with the first message."""
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        async with bot(fake, tmp_path, fal) as (core, adapter):
            dying = Dying(adapter.poster, Step.AFTER_POST)
            core.posters[Platform.DISCORD] = dying  # type: ignore[assignment]
            generate(fake, adapter)
            await asyncio.wait_for(dying.died.wait(), 30)
            [job] = await core.storage.jobs.in_states([JobState.SUCCEEDED])
            await core.supervisor.wait(job.id)
            job = await core.storage.jobs.get(job.id) or job
            assert job.result is not None and job.result.video_path is not None
            video = Path(job.result.video_path)
            fresh = MemoryAttempt(job.model_copy(update={"delivery": None}))  # never looks
            again = await adapter.poster.deliver(job, video, Succeeded(video, Money.zero(), None),
                                                 fresh)  # fmt: skip
        thread = job.origin.status_message_id or ""
        [posted] = videos_in(fake, thread, job.id)
        assert again.message_id == posted["id"]
        sends = [c for c in fake.messages_to(thread) if c.files]
        assert len(sends) == 2 and {c.body["nonce"] for c in sends} == {f"ltx-{job.id}"}
