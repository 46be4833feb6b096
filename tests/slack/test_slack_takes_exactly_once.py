"""A request's takes posted exactly once on Slack: the bot dies at a step of the group post
(every MP4 uploaded and the file ids stored, the share not completed; the share completed,
DELIVERED not stored), a new core on the same database resumes, and take 1's thread holds one
message with every take's file from one completion, and the ledger one capture per take."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slackkit import BOT_TOKEN, TEAM, png_bytes, view_submission
from test_slack_exactly_once import bot
from test_slack_submit import form, values

from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.model import Platform
from bot.ports import EntryKind
from tests.crashkit import Dying, Step
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


@pytest.mark.parametrize("step", [Step.BEFORE_POST, Step.AFTER_POST])
async def test_a_crash_at_each_step_of_the_takes_post_leaves_one_share_and_one_capture_each(
    tmp_path: Path, fal: SimulatedFal, step: Step
) -> None:
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as slack:
        async with bot(slack, tmp_path, fal) as (core, adapter, driver):
            dying = Dying(adapter.poster, step)
            core.posters[Platform.SLACK] = dying  # type: ignore[assignment]
            file = slack.add_file("chef.png", png_bytes(384, 224))
            state = values(file, "the chef tosses the pasta",
                           num_frames={"type": "number_input", "value": "9"},
                           takes={"type": "number_input", "value": "2"})  # fmt: skip
            status, _ = await driver.interactive(view_submission(form(), state))
            assert status == 200
            await asyncio.wait_for(dying.died.wait(), 30)
            takes = await core.storage.jobs.in_states([JobState.SUCCEEDED])
            for job in takes:
                await core.supervisor.wait(job.id)
        assert len(takes) == 2
        assert len(slack.calls_to("files.completeUploadExternal")) == (
            1 if step is Step.AFTER_POST else 0
        )
        async with bot(slack, tmp_path, fal) as (core, adapter, driver):
            resumed = await core.supervisor.resume(core.posters)
            assert sorted(resumed) == sorted(job.id for job in takes)
            for job in takes:
                await asyncio.wait_for(core.supervisor.wait(job.id), 30)
            done = [await core.storage.jobs.get(job.id) for job in takes]
            entries = await core.storage.ledger.entries(scope=f"slack:{TEAM}")
    [completion] = slack.calls_to("files.completeUploadExternal")  # never completed twice
    assert len(completion.params["files"]) == 2
    assert all(job is not None and job.state is JobState.DELIVERED for job in done)
    shares = {share["ts"] for share in slack.shares_in("C1")}
    assert {job.origin.result_message_id for job in done if job} <= shares
    assert len({job.origin.result_message_id for job in done if job}) == 1
    for job in takes:
        kinds = [entry.kind for entry in entries if entry.ref == job.id]
        assert kinds == [EntryKind.HOLD, EntryKind.CAPTURE]
