"""Job reads take no write lock (one SELECT each, no BEGIN IMMEDIATE on SQLite); writes and ledger
holds still begin IMMEDIATE, so admission stays serialized (see storage.engine)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage_testkit import T0, make_job, statements, write_lock_held_elsewhere

from bot.jobs.record import JobState
from bot.money import Money
from storage import open_storage


async def test_job_reads_go_on_while_another_writer_holds_the_lock(on_sqlite, sqlite_file):
    job = make_job("j1")
    await on_sqlite.jobs.insert(job)
    with write_lock_held_elsewhere(sqlite_file):
        # With BEGIN IMMEDIATE these waited up to the 30 s busy timeout for the writer.
        async with asyncio.timeout(5):
            assert await on_sqlite.jobs.get("j1") == job
            assert [j.id for j in await on_sqlite.jobs.in_states([JobState.RECEIVED])] == ["j1"]


async def test_single_statements_begin_nothing_while_holds_begin_immediate(on_sqlite):
    # A job write is one statement (the compare-and-swap is its WHERE): atomic on its own.
    # A hold reads the sums and then writes: it must hold the write lock from the start.
    job = make_job("j1")
    with statements(on_sqlite, words=2) as seen:
        await on_sqlite.jobs.insert(job)
        assert seen == ["INSERT INTO"]
        seen.clear()
        assert await on_sqlite.jobs.get("j1") == job
        assert await on_sqlite.jobs.by_fal_request_id("nope") is None
        assert seen == ["SELECT jobs.document", "SELECT jobs.document"]
        seen.clear()
        assert await on_sqlite.jobs.replace(job.advance(JobState.HELD, T0))
        assert seen == ["UPDATE jobs"]
        seen.clear()
        assert not await on_sqlite.jobs.replace(job.advance(JobState.REJECTED, T0))  # stale
        assert await on_sqlite.jobs.get("j1") == job.advance(JobState.HELD, T0)
        seen.clear()
        outcome = await on_sqlite.ledger.hold(
            job_id="j1", scope="guild-1", user_id="u1", amount=Money(5), limits=(), at=T0
        )
        assert outcome.admitted
        assert seen[0] == "BEGIN IMMEDIATE" and "INSERT INTO" in seen


async def test_another_replicas_write_is_seen_by_the_next_read(storage_url: str):
    first, second = await open_storage(storage_url), await open_storage(storage_url)
    try:
        job = make_job("j1")
        await first.jobs.insert(job)
        assert await second.jobs.get("j1") == job
        held = job.advance(JobState.HELD, T0 + timedelta(seconds=1))
        assert await second.jobs.replace(held)
        assert await first.jobs.get("j1") == held
        assert not await first.jobs.replace(job.advance(JobState.REJECTED, T0))  # stale copy
        assert [j.state for j in await first.jobs.in_states([JobState.HELD])] == [JobState.HELD]
    finally:
        await first.close()
        await second.close()
