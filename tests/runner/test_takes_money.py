"""Takes and money, on a paid core: held together, each captured or released on its own, and
posted together by exactly one of them however many replicas re-drive them meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from runnerkit import ALICE, PLACE, SHEET, SMALL, RecordingPoster, kinds, paid_core

from bot.events import Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState
from bot.model import Attachment, Invocation
from bot.ports import Delivery, DeliveryAttempt, EntryKind

HOLD, CAPTURE, RELEASE = EntryKind.HOLD, EntryKind.CAPTURE, EntryKind.RELEASE


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


class TakesPoster(RecordingPoster):
    """Records each group post; the first waits for `go` (a slow upload) when it is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[list[str]] = []
        self.ended: list[list[str]] = []
        self.attempts: list[DeliveryAttempt | None] = []
        self.posting = asyncio.Event()
        self.go = asyncio.Event()
        self.go.set()

    async def deliver_takes(
        self,
        leader: Job,
        takes: Sequence[tuple[Job, Path, Succeeded]],
        attempt: DeliveryAttempt | None = None,
        ended: Sequence[Job] = (),
    ) -> Delivery:
        self.attempts.append(attempt)
        self.groups.append([job.id for job, _, _ in takes])
        self.ended.append([job.id for job in ended])
        self.posting.set()
        await self.go.wait()
        for job, _, event in takes:
            if not self.ending(job.id).done():
                self.ending(job.id).set_result(event)
        return Delivery(f"group-{leader.id}")


async def generate_takes(core, takes: int, **options) -> list[str]:
    invocation = Invocation("generate", ALICE, PLACE, {**SMALL, "takes": takes, **options},
                            Attachment.from_path(SHEET))  # fmt: skip
    reply = await core.commands.dispatch(invocation)
    assert reply.job_id is not None, reply.text
    assert "3 takes x $0.0096300 = $0.02889" in reply.text or "takes x" in reply.text
    return [take["job_id"] for take in reply.data["takes"]]


async def test_a_failed_take_is_released_the_others_captured_and_posted_together(tmp_path, fal):
    fal.faults.run_error_seeds = frozenset({21})
    poster = TakesPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        ids = await generate_takes(core, 3, seed=20)
        for job_id in ids:
            await core.supervisor.wait(job_id)
        jobs = [await core.storage.jobs.get(job_id) for job_id in ids]
        assert [job.state for job in jobs] == [JobState.DELIVERED, JobState.FAILED,
                                               JobState.DELIVERED]  # fmt: skip
        assert [await kinds(core, job_id) for job_id in ids] == [
            [HOLD, CAPTURE], [HOLD, RELEASE], [HOLD, CAPTURE]
        ]  # fmt: skip
        assert poster.groups == [[ids[0], ids[2]]] and poster.ended == [[ids[1]]]
        seeds = sorted(s.arguments["seed"] for s in await fal.wait_for_submissions(3))
        assert seeds == [20, 21, 22]  # three seeds sent to fal


async def test_replicas_re_driving_the_takes_during_the_post_never_post_twice(tmp_path, fal):
    poster = TakesPoster()
    poster.go.clear()
    async with paid_core(tmp_path, fal, poster) as core:
        ids = await generate_takes(core, 3)
        await asyncio.wait_for(poster.posting.wait(), 20)
        lifecycle = core.supervisor.lifecycle
        stored = [await core.storage.jobs.get(job_id) for job_id in ids]
        poster_id = stored[0].takes_posted_by  # decided on take 1's record
        assert poster_id in ids
        # Another replica (or the sweep) drives the other takes meanwhile: they leave it to
        # the one that claimed the post (which only its own lease holder drives).
        others = [job for job in stored if job.id != poster_id]
        again = await asyncio.gather(*(lifecycle.deliver(job) for job in others))
        assert all(job.state is JobState.SUCCEEDED for job in again)  # left to the poster
        assert len(poster.groups) == 1
        poster.go.set()
        for job_id in ids:
            await core.supervisor.wait(job_id)
        assert len(poster.groups) == 1 and sorted(poster.groups[0]) == sorted(ids)
        for job_id in ids:
            assert await kinds(core, job_id) == [HOLD, CAPTURE]
        seeds = [s.arguments["seed"] for s in await fal.wait_for_submissions(3)]
        assert len(set(seeds)) == 3  # distinct random seeds


async def test_a_take_that_fails_last_has_its_finished_siblings_posted(tmp_path):
    async with SimulatedFal(generation_seconds=60, queue_seconds=0.02) as slow:
        slow.faults.run_error_seeds = frozenset({31})
        poster = TakesPoster()
        async with paid_core(tmp_path, slow, poster) as core:
            ids = await generate_takes(core, 3, seed=30)
            by_seed = {
                s.arguments["seed"]: s.request_id for s in await slow.wait_for_submissions(3)
            }
            slow.finish(by_seed[30])
            slow.finish(by_seed[32])
            await core.supervisor.wait(ids[0], ids[2])  # rendered, then left to the last take
            waiting = [await core.storage.jobs.get(job_id) for job_id in (ids[0], ids[2])]
            assert [job.state for job in waiting] == [JobState.SUCCEEDED] * 2
            assert poster.groups == [] and await core.storage.ledger.open_holds() != []
            slow.finish(by_seed[31])  # take 2 fails, last
            await asyncio.wait_for(poster.posting.wait(), 20)
            for job_id in ids:
                await core.supervisor.wait(job_id)
            assert poster.groups == [[ids[0], ids[2]]]
            assert [await kinds(core, job_id) for job_id in ids] == [
                [HOLD, CAPTURE], [HOLD, RELEASE], [HOLD, CAPTURE]
            ]  # fmt: skip
