"""SQL round trips per job: each step writes what it must, once, and reads only what it cannot
know; the crash-safety order (token stored before the submit POST) stays."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from runnerkit import RecordingPoster, generate, kinds, paid_core

from bot.events import Cancelled, Held, JobEvent, Succeeded
from bot.fal.simulated import SimulatedFal
from bot.jobs.record import Job, JobState
from bot.ports import EntryKind
from tests.storage.storage_testkit import statements

HOLD, CAPTURE, RELEASE = EntryKind.HOLD, EntryKind.CAPTURE, EntryKind.RELEASE
# Before: 10 job updates (one losing its compare-and-swap), 5 job reads, 28 BEGIN IMMEDIATE and
# 65 statements for one streamed job, command included. Updates now: HELD, token with sheet and
# status message, SUBMITTED, RUNNING, result, SUCCEEDED, DELIVERED.
MAX_JOB_UPDATES = 7
MAX_IMMEDIATE = 2  # the hold, and the capture (each reads, then writes)
# 22 before running balances; they add one UPDATE admission_balances at the hold and one at the
# capture, and this job is its window's first, so its hold also fills the window's row once
# (the sum over the entries, the old windows pruned, the INSERT): 27.
MAX_STATEMENTS = 27
WRITES = ("INSERT", "UPDATE", "DELETE")
# Later: 50 statements and 20 BEGIN IMMEDIATE, 10 of them only to read (the policy 6 times as
# BEGIN + 2 SELECTs, the channel list and presets, the usage twice).


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02) as server:
        yield server


def kind_of(statement: str) -> str:
    words = statement.split()
    if words[:2] == ["BEGIN", "IMMEDIATE"]:
        return "BEGIN IMMEDIATE"
    if words[0] == "UPDATE":
        return f"UPDATE {words[1]}"
    if words[0] == "SELECT" and "FROM jobs" in statement:
        return "SELECT jobs"
    return words[0]


def tally(seen: list[str]) -> Counter[str]:
    """The statements by kind (plus "all")."""
    counts = Counter(kind_of(statement) for statement in seen)
    counts["all"] = len(seen)
    return counts


async def ended(core: Any, poster: RecordingPoster, job_id: str) -> None:
    """Until the job was delivered and its task ended (reads nothing itself)."""
    assert isinstance(await asyncio.wait_for(poster.ending(job_id), 20), Succeeded)
    await core.supervisor.wait(job_id)


async def delivered(core: Any, job_id: str) -> Job:
    job = await core.storage.jobs.get(job_id)
    assert job.state is JobState.DELIVERED
    assert await kinds(core, job_id) == [HOLD, CAPTURE]
    return job


async def test_a_streamed_job_costs_a_bounded_number_of_statements(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        with statements(core.storage) as recorded:
            job_id = await generate(core)
            await ended(core, poster, job_id)
        job = await delivered(core, job_id)
    seen = tally(recorded)
    assert fal.stream_requests == 1
    assert seen["UPDATE jobs"] <= MAX_JOB_UPDATES, seen
    assert job.version == seen["UPDATE jobs"]  # inserted at 0; every update won its swap
    assert seen["SELECT jobs"] <= 1, seen  # the driver's one read; nothing re-read
    assert seen["BEGIN IMMEDIATE"] <= MAX_IMMEDIATE, seen
    assert seen["all"] <= MAX_STATEMENTS, seen
    # Every BEGIN IMMEDIATE opens a write; the policy is read by the command and for the
    # delivery's "budget left", one statement each.
    read_only = [
        run for run in transactions(recorded) if not any(s.startswith(WRITES) for s in run)
    ]
    assert read_only == [], read_only
    policy = [s for s in recorded if s.startswith("SELECT") and "FROM budget_caps" in s]
    assert len(policy) == 2 and all("FROM scope_rules" in s for s in policy), policy
    # The alert after the hold and the delivery's "budget left": one statement each (and the
    # window's first hold filling its running balance from the entries, once).
    usage = [s for s in recorded if s.startswith("SELECT coalesce(sum(")]
    fills = [s for s in usage if "CASE WHEN (ledger_entries.kind = ?) THEN" in s]
    assert len(usage) - len(fills) == 2 and len(fills) <= 1, usage


async def test_a_polled_job_reads_the_job_once_per_look_and_no_more(tmp_path, fal):
    fal.faults.stream_missing = True
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        with statements(core.storage) as recorded:
            job_id = await generate(core)
            await ended(core, poster, job_id)
        await delivered(core, job_id)
    seen = tally(recorded)
    assert fal.status_requests >= 1
    assert seen["UPDATE jobs"] <= MAX_JOB_UPDATES, seen
    # The driver's read, then one before each poll after the stream's 404 (how a cancel from
    # elsewhere is seen); nothing re-read right after it was read or written.
    assert seen["SELECT jobs"] <= 1 + fal.status_requests, seen


async def test_the_token_sheet_and_status_message_are_stored_in_one_write_before_the_post(
    tmp_path, fal
):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        gateway, stored_at_post = core.supervisor.gateway, []
        real_submit = gateway.submit

        async def submit(arguments: dict[str, Any], *, webhook_url: str | None) -> str:
            stored_at_post.append(await core.storage.jobs.get(job_id))
            return await real_submit(arguments, webhook_url=webhook_url)

        gateway.submit = submit
        job_id = await generate(core)
        await ended(core, poster, job_id)
        await delivered(core, job_id)
    (job,) = stored_at_post
    assert job.state is JobState.HELD and job.submit_token is not None
    assert job.sheet_url == fal.submissions[0].arguments["image_url"]
    assert job.origin.status_message_id == f"status-{job_id}"
    assert job.version == 2  # HELD, then this one write
    assert next(type(e) for j, e in poster.events if j == job_id) is Held


async def test_a_cancel_during_the_sheet_upload_sends_nothing_to_fal(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        gateway, cancels = core.supervisor.gateway, []
        real_upload = gateway.upload

        async def upload(data: bytes, **options: Any) -> str:
            cancels.append(await core.supervisor.cancel(job_id))
            return await real_upload(data, **options)

        gateway.upload = upload
        job_id = await generate(core)
        assert isinstance(await asyncio.wait_for(poster.ending(job_id), 20), Cancelled)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.CANCELLED and job.finished_at is not None
        assert job.submit_token is None
        assert await kinds(core, job_id) == [HOLD, RELEASE]
    assert [type(c) for c in cancels if c is not None] == [Cancelled]
    assert fal.submissions == [] and poster.deliveries == []


async def test_a_cancel_during_the_submit_post_is_cancelled_at_fal_once_the_id_is_known(
    tmp_path, fal
):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        gateway = core.supervisor.gateway
        real_submit = gateway.submit

        async def submit(arguments: dict[str, Any], *, webhook_url: str | None) -> str:
            outcome = await core.supervisor.cancel(job_id)
            assert isinstance(outcome, Cancelled)
            return await real_submit(arguments, webhook_url=webhook_url)

        gateway.submit = submit
        job_id = await generate(core)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
        assert job.state is JobState.CANCELLED and job.finished_at is not None
        assert job.fal_request_id == fal.submissions[0].request_id
        assert await kinds(core, job_id) == [HOLD, RELEASE]
    assert fal.jobs[job.fal_request_id].cancel_requested
    assert poster.deliveries == []


class RivalPoster(RecordingPoster):
    """Another driver stores its submit token while this one shows the job held."""

    store: Any = None

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        if isinstance(event, Held):
            stored = await self.store.get(job.id)
            assert await self.store.replace(
                stored.with_changes(stored.updated_at, submit_token="r")
            )
        return await super().progress(job, event)


async def test_a_job_another_driver_is_submitting_is_not_submitted_again(tmp_path, fal):
    poster = RivalPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        poster.store = core.storage.jobs
        job_id = await generate(core)
        await core.supervisor.wait(job_id)
        job = await core.storage.jobs.get(job_id)
    assert job.state is JobState.HELD and job.submit_token == "r"
    assert fal.submissions == []


def transactions(seen: list[str]) -> list[list[str]]:
    """The statements from each BEGIN IMMEDIATE to the next (autocommit reads after a commit
    land in the one before them, which can only hide a read-only one, never invent it)."""
    runs: list[list[str]] = []
    for statement in seen:
        if statement == "BEGIN IMMEDIATE":
            runs.append([])
        elif runs:
            runs[-1].append(statement)
    return runs
