"""A graceful stop (what SIGTERM does in `ltxbot run`): commands from then on are told to try
again in a moment, holding nothing; a video being posted is posted to the end (not cut between
the post and the stored DELIVERED), then the lease is handed back."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from runnerkit import ALICE, PLACE, SHEET, SMALL, RecordingPoster, generate, kinds, paid_core

from bot.events import JobEvent
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState
from bot.model import Attachment, ButtonAction, Invocation
from bot.ports import Delivery, EntryKind
from commands import RESTARTING

WAIT = 20.0


class HeldPost(RecordingPoster):
    """A poster whose video post waits for `go` (a slow upload), noting a cancellation."""

    def __init__(self) -> None:
        super().__init__()
        self.posting, self.go, self.cut = asyncio.Event(), asyncio.Event(), False

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: object = None
    ) -> Delivery:
        self.posting.set()
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.cut = True
            raise
        return await super().deliver(job, video, event, attempt)


class Said(logging.Handler):
    """Sets `event` when a record containing `words` is logged."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words, self.event = words, asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


async def test_a_stopping_replica_tells_new_commands_to_try_again_and_holds_nothing(tmp_path):
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal:
        poster = RecordingPoster()
        async with paid_core(tmp_path, fal, poster) as core:
            core.commands.stop_taking()
            invocation = Invocation("generate", ALICE, PLACE, SMALL, Attachment.from_path(SHEET))
            reply = await core.commands.dispatch(invocation)
            assert reply.refused and reply.text == RESTARTING
            pressed = await core.commands.press(ButtonAction.CANCEL, "job-x", ALICE, PLACE)
            assert pressed.refused and pressed.text == RESTARTING
            assert await core.storage.ledger.entries(scope=ALICE.scope_key) == []
            assert fal.submissions == [] and core.supervisor.driving == 0


async def test_a_post_under_way_finishes_before_the_stop_hands_the_lease_back(tmp_path):
    said = Said("letting 1 submits or posts finish")
    stopping = logging.getLogger("bot.jobs.stopping")
    level = stopping.level
    stopping.addHandler(said)
    stopping.setLevel(logging.INFO)
    try:
        async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as fal:
            poster = HeldPost()
            async with paid_core(tmp_path, fal, poster) as core:
                job_id = await generate(core)
                await asyncio.wait_for(poster.posting.wait(), WAIT)
                closing = asyncio.create_task(core.supervisor.close())
                await asyncio.wait_for(said.event.wait(), WAIT)  # close waits for the post
                poster.go.set()
                await asyncio.wait_for(closing, WAIT)
                assert not poster.cut and [j for j, _ in poster.deliveries] == [job_id]
                job = await core.storage.jobs.get(job_id)
                assert job is not None and job.state is JobState.DELIVERED
                assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]
                assert (
                    await core.storage.leases.driven_elsewhere(
                        owner="another-replica", platforms=[job.origin.platform]
                    )
                    == {}
                )  # nothing left leased
    finally:
        stopping.removeHandler(said)
        stopping.setLevel(level)
