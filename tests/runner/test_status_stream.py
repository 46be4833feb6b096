"""The Supervisor follows fal's status stream: one request per job; polling only as a fallback."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from runnerkit import RecordingPoster, generate, kinds, paid_core

from bot.events import Queued, Running, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.follow import STREAM_OPENINGS
from bot.jobs.record import JobState
from bot.ports import EntryKind

POLL = 0.05  # paid_core's poll interval


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.2, queue_seconds=0.05) as server:
        yield server


async def delivered_once(core, poster: RecordingPoster, job_id: str) -> None:
    assert isinstance(await asyncio.wait_for(poster.ending(job_id), 20), Succeeded)
    await core.supervisor.wait(job_id)
    assert (await core.storage.jobs.get(job_id)).state is JobState.DELIVERED
    assert [j for j, _ in poster.deliveries] == [job_id]
    assert await kinds(core, job_id) == [EntryKind.HOLD, EntryKind.CAPTURE]


def gaps(fal: SimulatedFal) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(fal.looks)]


async def test_a_job_completes_on_one_stream_request_and_no_poll(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await delivered_once(core, poster, job_id)
        assert (fal.stream_requests, fal.status_requests) == (1, 0)
        shown = [e for j, e in poster.events if j == job_id]
        assert any(isinstance(e, Queued) for e in shown)
        running = [e for e in shown if isinstance(e, Running)]
        # Progress from fal's log lines, shown as they came (not once at the end).
        assert len({e.fraction for e in running if e.fraction is not None}) >= 2


async def test_one_dropped_stream_is_reopened_without_polling(tmp_path, fal):
    fal.faults.drop_stream_next = 1
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await delivered_once(core, poster, job_id)
    assert (fal.stream_requests, fal.status_requests) == (2, 0)
    assert min(gaps(fal)) >= POLL * 0.9  # the reconnect waited like a poll would


async def test_streams_that_keep_dropping_fall_back_to_polling_and_deliver_once(tmp_path, fal):
    fal.faults.drop_stream_next = 1000
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await delivered_once(core, poster, job_id)
    assert fal.stream_requests == STREAM_OPENINGS  # bounded reconnects
    assert fal.status_requests >= 1
    kinds_in_order = [look.kind for look in fal.looks]
    assert kinds_in_order[:STREAM_OPENINGS] == ["stream"] * STREAM_OPENINGS
    assert set(kinds_in_order[STREAM_OPENINGS:]) == {"poll"}
    assert min(gaps(fal)) >= POLL * 0.9  # never two looks closer than the poll interval
    assert len(fal.submissions) == 1


async def test_a_fal_without_the_stream_is_polled_after_one_try(tmp_path, fal):
    fal.faults.stream_missing = True
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        job_id = await generate(core)
        await delivered_once(core, poster, job_id)
    assert fal.stream_requests == 1 and fal.status_requests >= 1


async def test_when_every_stream_slot_is_taken_the_job_is_polled_from_one_interval_on(
    tmp_path, fal
):
    # fal's answer to the submit said it is queued: an immediate poll would learn nothing.
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        core.supervisor.gateway.max_streams = 0
        job_id = await generate(core)
        await delivered_once(core, poster, job_id)
    assert fal.stream_requests == 0 and fal.status_requests >= 1
    offset = time.time() - time.monotonic()  # fal stamps submits by the wall clock
    submitted = fal.submissions[0].received_at.timestamp() - offset
    polls = [look.at for look in fal.looks if look.kind == "poll"]
    assert polls and polls[0] - submitted >= POLL * 0.9  # 0.9: the two clocks' rounding
