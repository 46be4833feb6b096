"""Delivery exactly once on Slack: the bot dies at a step of posting the video (the file
uploaded and its id stored but its share not completed; the share completed but DELIVERED not
stored), a new core on the same database resumes, and the thread holds one share of the video,
Slack saw one completion, and the ledger holds one capture.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from slackkit import BOT_TOKEN, SECRET, TEAM, Driver, png_bytes, view_submission
from test_slack_submit import form, values

from adapters.app.core import Core
from adapters.slack import SlackAdapter
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import JobState
from bot.model import Platform
from bot.ports import EntryKind
from bot.settings import Settings
from tests.crashkit import Dying, Step
from tests.fakes.slack_api import FakeSlackAPI
from tests.paid import paid_core_on


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


async def no_wait(seconds: float) -> None:
    """Slack's share check paces its files.info looks; the fake answers at once."""


@asynccontextmanager
async def bot(
    slack: FakeSlackAPI, tmp_path: Path, fal: SimulatedFal
) -> AsyncIterator[tuple[Core, SlackAdapter, Driver]]:
    """One bot process: a paying core behind the Slack adapter in HTTP mode (a fixed replica
    id, so a restart takes its own leases back at once)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, slack_bot_token=BOT_TOKEN, replica_id="replica-1",
        slack_signing_secret=SECRET, slack_api_url=slack.api_url, slack_port=0,
    )  # fmt: skip
    async with paid_core_on(settings, fal) as core, aiohttp.ClientSession() as session:
        adapter = SlackAdapter(settings, core.commands, host="127.0.0.1")
        adapter.poster.results.sleep = no_wait
        core.posters[Platform.SLACK] = adapter.poster
        await adapter.start()
        try:
            yield core, adapter, Driver(f"http://127.0.0.1:{adapter.port}/slack/events", session)
        finally:
            await adapter.close()


@pytest.mark.parametrize("step", [Step.BEFORE_POST, Step.AFTER_POST])
async def test_a_crash_at_each_step_of_delivery_leaves_one_video_and_one_capture(
    tmp_path: Path, fal: SimulatedFal, step: Step
) -> None:
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as slack:
        async with bot(slack, tmp_path, fal) as (core, adapter, driver):
            dying = Dying(adapter.poster, step)
            core.posters[Platform.SLACK] = dying  # type: ignore[assignment]
            file = slack.add_file("chef.png", png_bytes(384, 224))
            state = values(file, "the chef tosses the pasta",
                           num_frames={"type": "number_input", "value": "9"})  # fmt: skip
            status, _ = await driver.interactive(view_submission(form(), state))
            assert status == 200
            await asyncio.wait_for(dying.died.wait(), 30)
            [job] = await core.storage.jobs.in_states([JobState.SUCCEEDED])
            await core.supervisor.wait(job.id)
        assert len(slack.shares_in("C1")) == (1 if step is Step.AFTER_POST else 0)
        async with bot(slack, tmp_path, fal) as (core, adapter, driver):
            assert await core.supervisor.resume(core.posters) == [job.id]
            await asyncio.wait_for(core.supervisor.wait(job.id), 30)
            done = await core.storage.jobs.get(job.id)
            entries = await core.storage.ledger.entries(scope=f"slack:{TEAM}")
    [share] = slack.shares_in("C1")
    assert done is not None and done.state is JobState.DELIVERED and done.delivery is not None
    assert share["thread_ts"] == done.origin.status_message_id
    assert done.origin.result_message_id == share["ts"]
    kinds = [entry.kind for entry in entries if entry.ref == job.id]
    assert kinds == [EntryKind.HOLD, EntryKind.CAPTURE]
    [completion] = slack.calls_to("files.completeUploadExternal")  # never completed twice
    assert completion.params["files"][0]["id"] == done.delivery.marks["file"]


async def test_a_crash_after_the_link_post_leaves_one_link_and_one_capture(
    tmp_path: Path, fal: SimulatedFal
) -> None:
    """Uploads refused (no files:write): the video goes as a link message carrying the
    delivery's key in its metadata. The bot dies after Slack took it, before DELIVERED; the
    resumed delivery reads the thread back, finds the key and posts nothing more."""
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as slack:
        async with bot(slack, tmp_path, fal) as (core, adapter, driver):
            dying = Dying(adapter.poster, Step.AFTER_POST)
            core.posters[Platform.SLACK] = dying  # type: ignore[assignment]
            slack.fail_next("files.getUploadURLExternal", "missing_scope")
            file = slack.add_file("chef.png", png_bytes(384, 224))
            state = values(file, "the chef tosses the pasta",
                           num_frames={"type": "number_input", "value": "9"})  # fmt: skip
            status, _ = await driver.interactive(view_submission(form(), state))
            assert status == 200
            await asyncio.wait_for(dying.died.wait(), 30)
            [job] = await core.storage.jobs.in_states([JobState.SUCCEEDED])
            await core.supervisor.wait(job.id)
        async with bot(slack, tmp_path, fal) as (core, adapter, driver):
            assert await core.supervisor.resume(core.posters) == [job.id]
            await asyncio.wait_for(core.supervisor.wait(job.id), 30)
            done = await core.storage.jobs.get(job.id)
            entries = await core.storage.ledger.entries(scope=f"slack:{TEAM}")
    key = {"delivery": f"ltx-{job.id}"}
    links = [m for m in slack.messages.values()
             if (m.get("metadata") or {}).get("event_payload") == key]  # fmt: skip
    assert len(links) == 1 and slack.shares_in("C1") == []
    assert done is not None and done.state is JobState.DELIVERED
    assert done.origin.result_message_id == links[0]["ts"]
    kinds = [entry.kind for entry in entries if entry.ref == job.id]
    assert kinds == [EntryKind.HOLD, EntryKind.CAPTURE]
