"""Job signals on PostgreSQL (LISTEN/NOTIFY): heard by every listener, across a dropped
listening connection (re-opened, with a gap signal: whatever was sent meanwhile is re-read),
and kept apart between schemas; SQLite's in-process signals reach the same process."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from storage_testkit import POSTGRES_URL, proxied_schema, require_postgres, throwaway_schema

from bot.errors import StorageUnavailable
from storage import PostgresJobSignals, open_storage

WAIT = 10.0


async def heard(queue: asyncio.Queue[str | None]) -> str | None:
    return await asyncio.wait_for(queue.get(), WAIT)


@pytest.mark.postgres
async def test_a_signal_reaches_every_listener_and_survives_a_dropped_connection():
    await require_postgres()
    async with throwaway_schema() as url, throwaway_schema() as elsewhere:
        here, other = await open_storage(url), await open_storage(elsewhere)
        try:
            assert isinstance(here.signals, PostgresJobSignals)
            got: asyncio.Queue[str | None] = asyncio.Queue()
            apart: asyncio.Queue[str | None] = asyncio.Queue()
            await here.signals.listen(got.put_nowait)
            await other.signals.listen(apart.put_nowait)
            await asyncio.wait_for(here.signals.listening.wait(), WAIT)
            await asyncio.wait_for(other.signals.listening.wait(), WAIT)
            await other.signals.notify("job-elsewhere")
            await here.signals.notify("job-1")
            assert await heard(got) == "job-1"  # and not the other schema's
            assert await heard(apart) == "job-elsewhere"
            admin = await asyncpg.connect(POSTGRES_URL)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", here.signals.server_pid)
            finally:
                await admin.close()
            assert await heard(got) is None  # listening again: signals may have been missed
            await here.signals.notify("job-2")
            assert await heard(got) == "job-2"
            assert got.empty() and apart.empty()
        finally:
            await here.close()
            await other.close()


async def test_sqlite_signals_reach_the_listeners_of_the_same_process(tmp_path):
    storage = await open_storage(f"sqlite:///{tmp_path / 'ltxbot.sqlite3'}")
    try:
        got: asyncio.Queue[str | None] = asyncio.Queue()
        await storage.signals.listen(got.put_nowait)
        await storage.signals.notify("job-1")
        assert await heard(got) == "job-1"
    finally:
        await storage.close()


@pytest.mark.postgres
async def test_listening_resumes_when_the_database_comes_back():
    await require_postgres()
    async with proxied_schema() as (url, proxy):
        storage = await open_storage(url)
        try:
            assert isinstance(storage.signals, PostgresJobSignals)
            got: asyncio.Queue[str | None] = asyncio.Queue()
            await storage.signals.listen(got.put_nowait)
            await asyncio.wait_for(storage.signals.listening.wait(), WAIT)
            await proxy.cut()  # the listening connection drops; reconnects are refused
            with pytest.raises(StorageUnavailable):
                await storage.signals.notify("lost")
            await proxy.restore()
            assert await heard(got) is None  # back, and told that signals may have been lost
            await storage.signals.notify("job-1")
            assert await heard(got) == "job-1"
        finally:
            await storage.close()


async def test_a_write_that_wakes_signals_with_itself_and_only_when_stored(storage):
    """`replace(wake=signals)`: on PostgreSQL the NOTIFY is in the write's transaction, so a
    listener that re-reads when it hears finds the new row; a write that lost its race sends
    nothing (SQLite's in-process signals: the same contract)."""
    from storage_testkit import T0, make_job

    from bot.jobs.record import JobState

    got: asyncio.Queue[tuple[str | None, int | None]] = asyncio.Queue()
    seen: set[asyncio.Task[None]] = set()

    async def reread(job_id: str | None) -> None:
        stored = None if job_id is None else await storage.jobs.get(job_id)
        await got.put((job_id, None if stored is None else stored.version))

    def on_signal(job_id: str | None) -> None:
        task = asyncio.get_running_loop().create_task(reread(job_id))
        seen.add(task)
        task.add_done_callback(seen.discard)

    await storage.signals.listen(on_signal)
    if isinstance(storage.signals, PostgresJobSignals):
        await asyncio.wait_for(storage.signals.listening.wait(), WAIT)
    received = make_job("j1")
    await storage.jobs.insert(received)
    held = received.advance(JobState.HELD, T0)
    assert await storage.jobs.replace(held, wake=storage.signals)
    assert await asyncio.wait_for(got.get(), WAIT) == ("j1", held.version)  # visible when heard
    rival = received.advance(JobState.REJECTED, T0)  # a stale copy: refused, so no signal
    assert not await storage.jobs.replace(rival, wake=storage.signals)
    assert await storage.jobs.replace(held.advance(JobState.SUBMITTED, T0))  # no wake asked
    await storage.signals.notify("marker")
    assert await asyncio.wait_for(got.get(), WAIT) == ("marker", None)
    assert got.empty()
