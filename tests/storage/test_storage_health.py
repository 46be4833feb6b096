"""What /readyz and /metrics read from storage: the schema's state, and jobs by state."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from storage_testkit import make_job

from bot.jobs.record import JobState
from storage import Storage
from storage.migrate import head_revision, schema_problem


async def test_jobs_are_counted_by_state(storage: Storage):
    assert await storage.jobs.count_by_state() == {}
    for job_id in ("a", "b", "c"):
        await storage.jobs.insert(make_job(job_id))
    job = await storage.jobs.get("c")
    assert job is not None
    assert await storage.jobs.replace(job.advance(JobState.REJECTED, job.created_at))
    counts = await storage.jobs.count_by_state()
    assert counts == {JobState.RECEIVED: 2, JobState.REJECTED: 1}


async def test_a_migrated_database_has_no_problem_and_an_unmigrated_one_says_so(
    storage: Storage,
):
    head = head_revision()
    assert await schema_problem(storage.engine, head) is None
    assert await schema_problem(storage.engine, "9999_newer") == "database schema not migrated"
    async with storage.engine.begin() as connection:
        await connection.execute(text("DROP TABLE alembic_version"))
    assert await schema_problem(storage.engine, head) == "database schema not migrated"


async def test_a_database_that_cannot_be_reached_is_unreachable(on_sqlite: Storage, tmp_path: Path):
    (tmp_path / "db").rename(tmp_path / "elsewhere")
    await on_sqlite.engine.dispose()  # no pooled connection left to the moved file
    assert await schema_problem(on_sqlite.engine, head_revision()) == "database unreachable"
