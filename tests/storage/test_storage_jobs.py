"""The job store contract (bot.ports.JobStore), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from storage_testkit import T0, make_job

from bot.jobs.record import JobState, Result
from bot.model import Platform
from storage import Storage


async def test_a_job_round_trips_as_the_same_document(storage: Storage):
    job = make_job("j1").advance(JobState.HELD, T0 + timedelta(seconds=1))
    job = job.with_changes(
        T0 + timedelta(seconds=2),
        fal_request_id="req-1",
        result=Result(video_url="https://v3.fal.media/x.mp4", raw={"seed": 7}),
    )
    await storage.jobs.insert(job)
    assert await storage.jobs.get("j1") == job
    assert await storage.jobs.get("missing") is None


async def test_inserting_the_same_id_twice_is_refused(storage: Storage):
    await storage.jobs.insert(make_job("j1"))
    with pytest.raises(ValueError, match="already stored"):
        await storage.jobs.insert(make_job("j1", user_id="someone-else"))
    stored = await storage.jobs.get("j1")
    assert stored is not None and stored.origin.user_id == "u1"


async def test_replace_swaps_only_from_the_version_it_read(storage: Storage):
    received = make_job("j1")
    await storage.jobs.insert(received)
    held = received.advance(JobState.HELD, T0)
    rejected = received.advance(JobState.REJECTED, T0)  # a rival writer with the same base
    assert await storage.jobs.replace(held)
    assert not await storage.jobs.replace(rejected)  # stale: version 1 is already taken
    assert not await storage.jobs.replace(held)  # replaying the same swap does not apply twice
    assert await storage.jobs.get("j1") == held
    submitted = held.advance(JobState.SUBMITTED, T0, fal_request_id="req-9")
    assert await storage.jobs.replace(submitted)
    assert await storage.jobs.by_fal_request_id("req-9") == submitted


async def test_replace_of_an_unknown_job_changes_nothing(storage: Storage):
    assert not await storage.jobs.replace(make_job("ghost").advance(JobState.HELD, T0))
    assert await storage.jobs.get("ghost") is None


async def test_in_states_finds_jobs_by_their_current_state(storage: Storage):
    for index, job_id in enumerate(("a", "b", "c")):
        await storage.jobs.insert(make_job(job_id, created_at=T0 + timedelta(minutes=index)))
    b = (await storage.jobs.get("b")).advance(JobState.HELD, T0)  # type: ignore[union-attr]
    await storage.jobs.replace(b)
    assert [j.id for j in await storage.jobs.in_states([JobState.RECEIVED])] == ["a", "c"]
    found = await storage.jobs.in_states({JobState.HELD, JobState.RUNNING})
    assert found == [b]
    assert await storage.jobs.in_states([]) == []


async def test_for_user_lists_newest_first_within_platform_and_scope(storage: Storage):
    for minute in range(4):
        await storage.jobs.insert(
            make_job(f"mine-{minute}", created_at=T0 + timedelta(minutes=minute))
        )
    await storage.jobs.insert(make_job("other-user", user_id="u2"))
    await storage.jobs.insert(make_job("other-scope", scope="guild-2"))
    await storage.jobs.insert(make_job("other-platform", platform=Platform.SLACK))
    mine = await storage.jobs.for_user(platform=Platform.DISCORD, scope="guild-1", user_id="u1")
    assert [j.id for j in mine] == ["mine-3", "mine-2", "mine-1", "mine-0"]
    latest = await storage.jobs.for_user(
        platform=Platform.DISCORD, scope="guild-1", user_id="u1", limit=2
    )
    assert [j.id for j in latest] == ["mine-3", "mine-2"]
    slack = await storage.jobs.for_user(platform=Platform.SLACK, scope="guild-1", user_id="u1")
    assert [j.id for j in slack] == ["other-platform"]


async def test_by_fal_request_id_finds_only_that_request(storage: Storage):
    job = make_job("j1").advance(JobState.HELD, T0)
    await storage.jobs.insert(job.advance(JobState.SUBMITTED, T0, fal_request_id="req-1"))
    await storage.jobs.insert(make_job("j2"))
    found = await storage.jobs.by_fal_request_id("req-1")
    assert found is not None and found.id == "j1"
    assert await storage.jobs.by_fal_request_id("req-2") is None


async def test_jobs_of_many_request_ids_and_ids_are_read_together(storage: Storage):
    held = make_job("j1").advance(JobState.HELD, T0)
    await storage.jobs.insert(held.advance(JobState.SUBMITTED, T0, fal_request_id="req-1"))
    retried = make_job("j3", created_at=T0 + timedelta(seconds=5)).advance(JobState.HELD, T0)
    other = make_job("j2").advance(JobState.HELD, T0)
    await storage.jobs.insert(other.advance(JobState.SUBMITTED, T0, fal_request_id="r2"))
    await storage.jobs.insert(retried.advance(JobState.SUBMITTED, T0, fal_request_id="req-1"))
    found = await storage.jobs.by_fal_request_ids(["req-1", "r2", "unknown", "req-1"])
    assert {rid: job.id for rid, job in found.items()} == {"req-1": "j3", "r2": "j2"}
    assert await storage.jobs.by_fal_request_ids([]) == {}
    many = await storage.jobs.many(["j1", "j2", "nope"])
    assert sorted(many) == ["j1", "j2"] and many["j1"].fal_request_id == "req-1"


async def test_ended_unpurged_lists_old_ended_jobs_until_marked(storage: Storage):
    later = T0 + timedelta(days=40)
    old = make_job("old").advance(JobState.REJECTED, T0)
    active = make_job("active").advance(JobState.HELD, T0)
    elsewhere = make_job("elsewhere", scope="guild-2").advance(JobState.REJECTED, T0)
    recent = make_job("recent").advance(JobState.REJECTED, later)
    for job in (old, active, elsewhere, recent):
        await storage.jobs.insert(job)
    cutoff = T0 + timedelta(days=10)
    found = await storage.jobs.ended_unpurged(before=cutoff)
    assert sorted(j.id for j in found) == ["elsewhere", "old"]
    mine = await storage.jobs.ended_unpurged(
        before=cutoff, platform=Platform.DISCORD, scope="guild-1"
    )
    assert [j.id for j in mine] == ["old"]
    assert await storage.jobs.replace(old.with_changes(T0, purged_at=later))  # still old
    assert [j.id for j in await storage.jobs.ended_unpurged(before=cutoff)] == ["elsewhere"]
    stored = await storage.jobs.get("old")
    assert stored is not None and stored.purged_at == later
