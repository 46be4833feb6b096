"""A crash part-way through capturing a request's takes on Slack (one take captured, the
posting take not): a new core on the same database re-drives the post, finds the earlier
share, and take 1's status message shows every take's end, the captured take and the failed
one (with its reason and refund) included; one share, one capture or release per take."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slackkit import BOT_TOKEN, TEAM
from test_slack_exactly_once import bot

from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState
from bot.model import Actor, Attachment, Invocation, Place, Platform
from bot.money import Money
from bot.ports import Delivery, EntryKind
from tests.fakes.slack_api import FakeSlackAPI

SHEET = Path(__file__).resolve().parents[2] / "examples" / "chef-sheet.png"
ALICE = Actor(Platform.SLACK, TEAM, "U1", "Alice")
SMALL = {"prompt": "the chef tosses pasta", "resolution": "256x160", "num_frames": 9}


@pytest.fixture
async def fal() -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        server.faults.run_error_seeds = frozenset({11})
        yield server


async def test_the_re_driven_status_shows_every_takes_end(tmp_path: Path, fal: SimulatedFal):
    async with FakeSlackAPI(bot_token=BOT_TOKEN) as slack:
        async with bot(slack, tmp_path, fal) as (core, _, _):
            life = core.supervisor.lifecycle
            real, died, captured = life.delivered, asyncio.Event(), []

            async def dies_at_the_second(job: Job, delivery: Delivery) -> Job:
                if captured:  # the posting take, captured last: the process dies first
                    died.set()
                    raise asyncio.CancelledError
                captured.append(job.id)
                return await real(job, delivery)

            life.delivered = dies_at_the_second  # type: ignore[method-assign]
            place = Place(Platform.SLACK, TEAM, "C1")
            options = {**SMALL, "takes": 3, "seed": 10}
            invocation = Invocation("generate", ALICE, place, options, Attachment.from_path(SHEET))
            reply = await core.commands.dispatch(invocation)
            ids = [take["job_id"] for take in (reply.data or {})["takes"]]
            await asyncio.wait_for(died.wait(), 30)
            for job_id in ids:
                await core.supervisor.wait(job_id)
            states = [job.state for i in ids if (job := await core.storage.jobs.get(i))]
        assert sorted(states) == sorted([JobState.DELIVERED, JobState.FAILED, JobState.SUCCEEDED])
        async with bot(slack, tmp_path, fal) as (core, _, _):
            await core.supervisor.resume(core.posters)
            for job_id in ids:
                await asyncio.wait_for(core.supervisor.wait(job_id), 30)
            takes = [job for i in ids if (job := await core.storage.jobs.get(i))]
            entries = await core.storage.ledger.entries(scope=f"slack:{TEAM}")
    assert [job.state for job in takes] == [JobState.DELIVERED, JobState.FAILED,
                                            JobState.DELIVERED]  # fmt: skip
    assert len(slack.calls_to("files.completeUploadExternal")) == 1  # found, not shared again
    status = takes[0].origin.status_message_id
    [*_, last] = [c for c in slack.calls_to("chat.update") if c.params["ts"] == status]
    text = last.params["text"]
    assert "Take 1/3 · seed 10" in text and "Take 3/3 · seed 12" in text, text
    [failed] = [line for line in text.splitlines() if "Take 2/3" in line]
    assert "Take 2/3 · seed 11" in failed and "failed: " in failed, failed
    assert "runner_disconnected" in failed
    assert f"{Money(takes[1].quoted_nanos)} released back to your budget" in failed
    assert "2 of your 3 takes are ready" in text
    for job, kinds in zip(takes, ([EntryKind.HOLD, EntryKind.CAPTURE],
                                  [EntryKind.HOLD, EntryKind.RELEASE],
                                  [EntryKind.HOLD, EntryKind.CAPTURE]), strict=True):  # fmt: skip
        assert [entry.kind for entry in entries if entry.ref == job.id] == kinds
