"""Job leases on SQLite and PostgreSQL: one winner per claim (also from two engines racing, as two
replicas), renewals only by the owner, hand-back ends the leases at once, and which jobs have
lapsed. Time is the database's own: a lease "ran out" here is one claimed for -1 s."""

from __future__ import annotations

import asyncio

from storage_testkit import DAY, T0, make_job

from bot.jobs.record import JobState
from bot.model import Platform
from storage import Storage, open_storage

A, B = "replica-a", "replica-b"
EVERY = [Platform.DISCORD, Platform.SLACK, Platform.CONSOLE]


async def stored(storage: Storage, job_id: str, state: JobState = JobState.HELD, **kw) -> None:
    job = make_job(job_id, **kw)
    job = job.model_copy(update={"state": state})
    await storage.jobs.insert(job)


async def test_a_live_lease_is_kept_from_others_and_reclaimable_by_its_owner(storage):
    leases = storage.leases
    assert await leases.claim(job_id="j1", owner=A, seconds=30)
    assert not await leases.claim(job_id="j1", owner=B, seconds=30)
    assert await leases.claim(job_id="j1", owner=A, seconds=30)  # the owner again: still its own
    assert await leases.renew(owner=A, job_ids=["j1", "j2"], seconds=30) == {"j1"}
    assert await leases.renew(owner=B, job_ids=["j1"], seconds=30) == set()
    assert await leases.renew(owner=B, job_ids=[], seconds=30) == set()


async def test_a_lease_that_ran_out_is_taken_over_and_its_old_owner_cannot_renew_it(storage):
    leases = storage.leases
    assert await leases.claim(job_id="j1", owner=A, seconds=-1)  # as if A had stopped renewing
    assert await leases.claim(job_id="j1", owner=B, seconds=30)
    assert await leases.renew(owner=A, job_ids=["j1"], seconds=30) == set()  # A must stop
    assert await leases.renew(owner=B, job_ids=["j1"], seconds=30) == {"j1"}


async def test_claim_many_wins_what_nobody_else_holds_in_one_go(storage):
    leases = storage.leases
    assert await leases.claim(job_id="j2", owner=B, seconds=30)
    assert await leases.claim(job_id="j3", owner=B, seconds=-1)
    ids = [f"j{n}" for n in range(1, 5)] * 2  # repeated ids count once
    assert await leases.claim_many(job_ids=ids, owner=A, seconds=30) == {"j1", "j3", "j4"}
    assert await leases.claim_many(job_ids=[], owner=A, seconds=30) == set()
    many = [f"k{n}" for n in range(700)]  # more than one statement's worth
    assert await leases.claim_many(job_ids=many, owner=A, seconds=30) == set(many)
    assert await leases.renew(owner=A, job_ids=many, seconds=30) == set(many)


async def test_release_forgets_only_the_owners_lease(storage):
    leases = storage.leases
    assert await leases.claim(job_id="j1", owner=A, seconds=30)
    await leases.release(job_id="j1", owner=B)  # not B's: nothing changes
    assert not await leases.claim(job_id="j1", owner=B, seconds=30)
    await leases.release(job_id="j1", owner=A)
    assert await leases.claim(job_id="j1", owner=B, seconds=30)


async def test_hand_back_ends_every_lease_of_the_owner_at_once(storage):
    leases = storage.leases
    for job_id in ("j1", "j2"):
        assert await leases.claim(job_id=job_id, owner=A, seconds=30)
    assert await leases.claim(job_id="j3", owner=B, seconds=30)
    assert await leases.hand_back(owner=A) == 2
    assert await leases.claim(job_id="j1", owner=B, seconds=30)
    assert await leases.claim(job_id="j2", owner=B, seconds=30)
    assert await leases.hand_back(owner=A) == 0


async def test_lapsed_lists_jobs_that_need_a_driver_and_have_none(storage):
    leases = storage.leases
    await stored(storage, "held-free")  # never claimed (a replica died before its claim)
    await stored(storage, "held-mine", JobState.RUNNING)
    await stored(storage, "ran-out", JobState.SUBMITTED)
    await stored(storage, "delivering-died", JobState.SUCCEEDED)
    await stored(storage, "delivery-put-off", JobState.SUCCEEDED)
    await stored(storage, "done", JobState.DELIVERED)
    await stored(storage, "slack-one", platform=Platform.SLACK)
    assert await leases.claim(job_id="held-mine", owner=A, seconds=30)
    assert await leases.claim(job_id="ran-out", owner=A, seconds=-1)
    assert await leases.claim(job_id="delivering-died", owner=A, seconds=-1)
    assert await leases.claim(job_id="done", owner=A, seconds=-1)
    found = await leases.lapsed(platforms=[Platform.DISCORD], limit=100)
    assert sorted(found) == ["delivering-died", "held-free", "ran-out"]
    with_put_off = await leases.lapsed(platforms=[Platform.DISCORD], limit=100, undelivered=True)
    assert sorted(with_put_off) == ["delivering-died", "delivery-put-off", "held-free", "ran-out"]
    assert await leases.lapsed(platforms=[Platform.SLACK], limit=100) == ["slack-one"]
    # A job never claimed and changed at T0 counts only once it is older than the cut-off.
    just_held = await leases.lapsed(platforms=[Platform.DISCORD], limit=100, unclaimed_before=T0)
    assert sorted(just_held) == ["delivering-died", "ran-out"]
    settled = await leases.lapsed(
        platforms=[Platform.DISCORD], limit=100, unclaimed_before=T0 + DAY
    )
    assert sorted(settled) == ["delivering-died", "held-free", "ran-out"]
    # A replica restarted under its fixed id takes its own live leases back too.
    restarted = await leases.lapsed(platforms=[Platform.DISCORD], limit=100, owner=A)
    assert sorted(restarted) == ["delivering-died", "held-free", "held-mine", "ran-out"]
    assert "held-mine" not in await leases.lapsed(platforms=[Platform.DISCORD], limit=100, owner=B)
    assert len(await leases.lapsed(platforms=EVERY, limit=2)) == 2
    assert await leases.lapsed(platforms=[], limit=100) == []


async def test_driven_elsewhere_says_how_long_each_other_owners_lease_has_left(storage):
    leases = storage.leases
    await stored(storage, "theirs", JobState.RUNNING)
    await stored(storage, "mine", JobState.RUNNING)
    await stored(storage, "theirs-ran-out", JobState.RUNNING)
    await stored(storage, "theirs-done", JobState.DELIVERED)
    assert await leases.claim(job_id="theirs", owner=B, seconds=20)
    assert await leases.claim(job_id="mine", owner=A, seconds=20)
    assert await leases.claim(job_id="theirs-ran-out", owner=B, seconds=-1)
    assert await leases.claim(job_id="theirs-done", owner=B, seconds=20)
    elsewhere = await leases.driven_elsewhere(owner=A, platforms=EVERY)
    assert list(elsewhere) == ["theirs"]
    assert 15 < elsewhere["theirs"] <= 20


async def test_forget_ended_deletes_only_run_out_leases_of_ended_jobs(storage):
    leases = storage.leases
    await stored(storage, "done", JobState.DELIVERED)
    await stored(storage, "done-live", JobState.FAILED)
    await stored(storage, "running", JobState.RUNNING)
    assert await leases.claim(job_id="done", owner=A, seconds=-1)
    assert await leases.claim(job_id="done-live", owner=A, seconds=30)
    assert await leases.claim(job_id="running", owner=A, seconds=-1)
    assert await leases.forget_ended() == 1
    assert await leases.forget_ended() == 0
    assert await leases.renew(owner=A, job_ids=["done", "done-live", "running"], seconds=30) == {
        "done-live",
        "running",
    }


async def test_replicas_racing_for_the_same_jobs_each_win_every_job_exactly_once(storage_url):
    # Two engines on one database: two replicas (separate pools, separate connections).
    first, second = await open_storage(storage_url), await open_storage(storage_url)
    try:
        ids = [f"job-{n}" for n in range(40)]
        names = [f"replica-{n}" for n in range(4)]
        stores = [first.leases, second.leases, first.leases, second.leases]

        async def claims(owner: str, n: int) -> list[str]:
            won = []
            for job_id in ids:
                if await stores[n].claim(job_id=job_id, owner=owner, seconds=30):
                    won.append(job_id)
            return won

        results = await asyncio.gather(*(claims(name, n) for n, name in enumerate(names)))
        winners = sorted(job_id for won in results for job_id in won)
        assert winners == sorted(ids)  # every job won, none twice
    finally:
        await first.close()
        await second.close()
