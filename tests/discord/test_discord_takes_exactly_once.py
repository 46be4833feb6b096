"""A request's takes posted exactly once on Discord: the bot dies at a step of the group post
(the channel noted, nothing sent; the message sent, DELIVERED not stored), a new core on the
same database resumes, and take 1's thread holds one message with every take's MP4, take 1's
key its nonce, and the ledger one capture per take."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discordkit import ALICE, CHANNEL, GUILD, SMALL
from test_discord_exactly_once import SHEET, bot, ledger_kinds

from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState
from bot.model import Platform
from bot.ports import Delivery, EntryKind
from tests.crashkit import Dying, Step
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


@pytest.mark.parametrize(
    ("step", "nonce_window"),
    [(Step.BEFORE_POST, 300.0), (Step.AFTER_POST, 300.0), (Step.AFTER_POST, 0.0)],
)
async def test_a_crash_at_each_step_of_the_takes_post_leaves_one_message_and_one_capture_each(
    tmp_path: Path, fal: SimulatedFal, step: Step, nonce_window: float
) -> None:
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        fake.nonce_window = nonce_window
        async with bot(fake, tmp_path, fal) as (core, adapter):
            dying = Dying(adapter.poster, step)
            core.posters[Platform.DISCORD] = dying  # type: ignore[assignment]
            data = SHEET.read_bytes()
            url = fake.host("chef-sheet.png", data, "image/png")
            sheet = o.attachment(o.snowflake(), "chef-sheet.png", len(data), url, "image/png")
            options = {**SMALL, "takes": 2, "seed": 10}
            payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                       ix.slash_data("ltx", "generate", options,
                                                     attachments={"sheet": sheet}))  # fmt: skip
            adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
            await asyncio.wait_for(dying.died.wait(), 30)
            takes = await core.storage.jobs.in_states([JobState.SUCCEEDED])
            for job in takes:
                await core.supervisor.wait(job.id)
        takes = sorted(takes, key=lambda job: job.take or 0)
        assert len(takes) == 2
        thread = takes[0].origin.status_message_id or ""
        sent = [m for m in fake.stored_in(thread) if m["attachments"]]
        assert len(sent) == (1 if step is Step.AFTER_POST else 0)
        async with bot(fake, tmp_path, fal) as (core, adapter):
            resumed = await core.supervisor.resume(core.posters)
            assert sorted(resumed) == sorted(job.id for job in takes)
            for job in takes:
                await asyncio.wait_for(core.supervisor.wait(job.id), 30)
            done = [await core.storage.jobs.get(job.id) for job in takes]
            kinds = [await ledger_kinds(core, job) for job in takes]
    [message] = [m for m in fake.stored_in(thread) if m["attachments"]]
    names = sorted(a["filename"] for a in message["attachments"])
    assert names == sorted(f"ltx-{job.id}.mp4" for job in takes)
    assert all(job is not None and job.state is JobState.DELIVERED for job in done)
    assert {job.origin.result_message_id for job in done if job} == {message["id"]}
    assert kinds == [[EntryKind.HOLD, EntryKind.CAPTURE]] * 2
    sends = [c for c in fake.messages_to(thread) if c.files]
    assert {c.body["nonce"] for c in sends} == {f"ltx-{takes[0].id}"[:25]}


async def test_a_crash_part_way_through_the_captures_posts_nothing_again(
    tmp_path: Path, fal: SimulatedFal
) -> None:
    """One take captured, the posting take not: the re-drive finds the one message (with the
    captured take's MP4 and the failed take's line), posts nothing more, captures the rest."""
    fal.faults.run_error_seeds = frozenset({11})
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        async with bot(fake, tmp_path, fal) as (core, adapter):
            life = core.supervisor.lifecycle
            real, died, captured = life.delivered, asyncio.Event(), []

            async def dies_at_the_second(job: Job, delivery: Delivery) -> Job:
                if captured:  # the posting take, captured last: the process dies first
                    died.set()
                    raise asyncio.CancelledError
                captured.append(job.id)
                return await real(job, delivery)

            life.delivered = dies_at_the_second  # type: ignore[method-assign]
            data = SHEET.read_bytes()
            url = fake.host("chef-sheet.png", data, "image/png")
            sheet = o.attachment(o.snowflake(), "chef-sheet.png", len(data), url, "image/png")
            options = {**SMALL, "takes": 3, "seed": 10}
            slash = ix.slash_data("ltx", "generate", options, attachments={"sheet": sheet})
            payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, slash)
            adapter.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
            await asyncio.wait_for(died.wait(), 30)
            first = [j for j in await core.storage.jobs.in_states(list(JobState)) if j.take == 1]
            ids = first[0].take_ids
            for job_id in ids:
                await core.supervisor.wait(job_id)
        async with bot(fake, tmp_path, fal) as (core, adapter):
            await core.supervisor.resume(core.posters)
            for job_id in ids:
                await asyncio.wait_for(core.supervisor.wait(job_id), 30)
            takes = [job for i in ids if (job := await core.storage.jobs.get(i))]
            kinds = [await ledger_kinds(core, job) for job in takes]
    assert [job.state for job in takes] == [JobState.DELIVERED, JobState.FAILED,
                                            JobState.DELIVERED]  # fmt: skip
    uploads = [c for c in fake.calls if c.files and c.status == 200]
    assert len(uploads) == 1 and len(uploads[0].files) == 2  # never posted again
    content = uploads[0].body["content"]
    assert "2 of your 3 takes are ready" in content and "❌ **Take 2/3 · seed 11**" in content
    assert kinds == [[EntryKind.HOLD, EntryKind.CAPTURE], [EntryKind.HOLD, EntryKind.RELEASE],
                     [EntryKind.HOLD, EntryKind.CAPTURE]]  # fmt: skip
