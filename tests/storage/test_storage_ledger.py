"""The ledger contract (bot.ports.Ledger), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from storage_testkit import DAY, T0

from bot.money import Money
from bot.ports import EntryKind, HoldOutcome, Limit, Usage
from storage import Storage

SCOPE = "discord:guild-1"


def user_cap(limit: int, user_id: str = "u1", since=None, name="your cap") -> Limit:
    return Limit(name, SCOPE, user_id, Money(limit), since, None)


def pool_cap(limit: int, since=None) -> Limit:
    return Limit("the team pool", SCOPE, None, Money(limit), since, None)


async def hold(storage: Storage, job_id: str, amount: int, *limits: Limit, user="u1", at=T0):
    return await storage.ledger.hold(
        job_id=job_id, scope=SCOPE, user_id=user, amount=Money(amount), limits=limits, at=at
    )


async def grant(storage: Storage, amount: int, user_id: str | None = "u1", at=T0):
    return await storage.ledger.grant(
        scope=SCOPE, user_id=user_id, amount=Money(amount), at=at, actor="admin", note="test"
    )


async def kinds(storage: Storage, job_id: str) -> list[EntryKind]:
    return [e.kind for e in await storage.ledger.entries(scope=SCOPE) if e.ref == job_id]


async def test_a_hold_without_limits_is_admitted_and_written_at_its_time(storage: Storage):
    assert await hold(storage, "j1", 500) == HoldOutcome(admitted=True)
    [entry] = await storage.ledger.entries(scope=SCOPE)
    assert (entry.kind, entry.ref, entry.user_id, entry.amount) == (
        EntryKind.HOLD,
        "j1",
        "u1",
        Money(500),
    )
    assert entry.effective_at == T0 and entry.created_at == T0


async def test_a_second_hold_for_a_job_writes_nothing_and_says_replayed(storage: Storage):
    assert (await hold(storage, "j1", 40, user_cap(50))).admitted
    again = await hold(storage, "j1", 40, user_cap(50))
    assert again == HoldOutcome(admitted=True, replayed=True)
    assert await kinds(storage, "j1") == [EntryKind.HOLD]
    assert (await storage.ledger.usage(scope=SCOPE, user_id="u1", since=None)).held == Money(40)


async def test_a_hold_fits_exactly_up_to_the_cap_and_no_further(storage: Storage):
    assert (await hold(storage, "j1", 60, user_cap(100))).admitted
    refused = await hold(storage, "j2", 41, user_cap(100))
    assert not refused.admitted and not refused.replayed
    assert refused.usage == Usage(spent=Money(0), held=Money(60), granted=Money(0))
    assert (await hold(storage, "j3", 40, user_cap(100))).admitted
    assert await kinds(storage, "j2") == []


async def test_the_first_limit_without_room_is_reported(storage: Storage):
    await hold(storage, "other", 80, user="u2")
    roomy, tight_pool, tight_user = user_cap(1000), pool_cap(100), user_cap(10, name="daily")
    refused = await hold(storage, "j1", 30, roomy, tight_pool, tight_user)
    assert refused.blocked_by == tight_pool
    assert refused.usage == Usage(spent=Money(0), held=Money(80), granted=Money(0))
    refused = await hold(storage, "j1", 30, tight_user, tight_pool)
    assert refused.blocked_by == tight_user


async def test_a_refused_hold_can_be_retried_once_room_frees(storage: Storage):
    await hold(storage, "j1", 90, user_cap(100))
    assert not (await hold(storage, "j2", 20, user_cap(100))).admitted
    assert await storage.ledger.release(job_id="j1", at=T0)
    assert await hold(storage, "j2", 20, user_cap(100)) == HoldOutcome(admitted=True)


async def test_the_pool_counts_every_user_and_a_user_cap_only_that_user(storage: Storage):
    await hold(storage, "a", 50, user="u1")
    await hold(storage, "b", 30, user="u2")
    assert (await hold(storage, "c", 45, user_cap(100, "u2"), user="u2")).admitted
    refused = await hold(storage, "d", 26, user_cap(200, "u2"), pool_cap(150), user="u2")
    assert refused.blocked_by == pool_cap(150)
    assert refused.usage is not None and refused.usage.held == Money(125)


async def test_user_grants_widen_only_that_user_and_pool_grants_only_the_pool(storage: Storage):
    await grant(storage, 100, user_id="u1")
    await grant(storage, 30, user_id=None)
    assert (await hold(storage, "j1", 150, user_cap(50), pool_cap(200))).admitted
    # u1's own grant gave u1 room, but the pool only gained the pool grant.
    refused = await hold(storage, "j2", 81, pool_cap(200), user="u2")
    assert refused.blocked_by == pool_cap(200)
    assert refused.usage == Usage(spent=Money(0), held=Money(150), granted=Money(30))
    assert not (await hold(storage, "j3", 51, user_cap(50, "u2"), user="u2")).admitted


async def test_a_negative_grant_is_an_adjust_that_takes_room_away(storage: Storage):
    entry = await grant(storage, -30)
    assert entry.kind is EntryKind.ADJUST and entry.amount == Money(-30)
    assert (await storage.ledger.entries(scope=SCOPE)) == [entry]
    usage = await storage.ledger.usage(scope=SCOPE, user_id="u1", since=None)
    assert usage == Usage(
        spent=Money(0), held=Money(0), granted=Money(-30)
    ) and usage.used == Money(30)
    assert not (await hold(storage, "j1", 80, user_cap(100))).admitted
    assert (await hold(storage, "j1", 70, user_cap(100))).admitted


async def test_capture_spends_once_and_closes_the_hold(storage: Storage):
    await hold(storage, "j1", 100)
    assert await storage.ledger.capture(job_id="j1", amount=Money(80), at=T0 + DAY)
    assert not await storage.ledger.capture(job_id="j1", amount=Money(80), at=T0 + DAY)
    assert not await storage.ledger.release(job_id="j1", at=T0 + DAY)
    usage = await storage.ledger.usage(scope=SCOPE, user_id="u1", since=None)
    assert usage == Usage(spent=Money(80), held=Money(0), granted=Money(0))
    assert await kinds(storage, "j1") == [EntryKind.HOLD, EntryKind.CAPTURE]
    assert await storage.ledger.open_holds() == []


async def test_capture_above_the_hold_is_refused_and_writes_nothing(storage: Storage):
    await hold(storage, "j1", 100)
    with pytest.raises(ValueError, match="exceeds"):
        await storage.ledger.capture(job_id="j1", amount=Money(101), at=T0)
    assert await kinds(storage, "j1") == [EntryKind.HOLD]
    assert await storage.ledger.open_holds() == ["j1"]
    assert await storage.ledger.capture(job_id="j1", amount=Money(100), at=T0)


async def test_closing_a_job_never_held_does_nothing(storage: Storage):
    assert not await storage.ledger.capture(job_id="ghost", amount=Money(0), at=T0)
    assert not await storage.ledger.release(job_id="ghost", at=T0)
    assert await storage.ledger.entries(scope=SCOPE) == []


async def test_release_spends_nothing_once_and_keeps_its_note(storage: Storage):
    await hold(storage, "j1", 100)
    assert await storage.ledger.release(job_id="j1", at=T0, note="fal refused the prompt")
    assert not await storage.ledger.release(job_id="j1", at=T0)
    assert not await storage.ledger.capture(job_id="j1", amount=Money(1), at=T0)
    closing = (await storage.ledger.entries(scope=SCOPE))[-1]
    assert (closing.kind, closing.amount, closing.note) == (
        EntryKind.RELEASE,
        Money(0),
        "fal refused the prompt",
    )
    usage = await storage.ledger.usage(scope=SCOPE, user_id=None, since=None)
    assert usage == Usage(spent=Money(0), held=Money(0), granted=Money(0))


async def test_a_job_counts_in_the_period_it_was_held(storage: Storage):
    yesterday, today = T0, T0 + DAY
    await hold(storage, "j1", 100, at=yesterday)
    assert await storage.ledger.capture(job_id="j1", amount=Money(90), at=today)
    capture = (await storage.ledger.entries(scope=SCOPE))[-1]
    assert capture.effective_at == yesterday and capture.created_at == today
    assert (await storage.ledger.usage(scope=SCOPE, user_id="u1", since=today)).spent == Money(0)
    assert (await storage.ledger.usage(scope=SCOPE, user_id="u1", since=yesterday)).spent == Money(
        90
    )


async def test_only_entries_since_the_window_start_count_against_a_limit(storage: Storage):
    await hold(storage, "old", 90, at=T0)
    await grant(storage, 50, at=T0)
    today = T0 + DAY
    all_time = await hold(storage, "j1", 61, user_cap(100), at=today)
    assert all_time.usage == Usage(spent=Money(0), held=Money(90), granted=Money(50))
    daily = user_cap(100, since=today)
    assert (await hold(storage, "j1", 100, daily, at=today)).admitted
    refused = await hold(storage, "j2", 1, daily, at=today)
    assert refused.usage == Usage(spent=Money(0), held=Money(100), granted=Money(0))
    # The window start is inclusive, to the microsecond.
    assert (await storage.ledger.usage(scope=SCOPE, user_id="u1", since=today)).held == Money(100)
    later = today.replace(microsecond=1)
    assert (await storage.ledger.usage(scope=SCOPE, user_id="u1", since=later)).held == Money(0)


async def test_open_holds_lists_jobs_neither_captured_nor_released(storage: Storage):
    for job_id in ("a", "b", "c"):
        await hold(storage, job_id, 10)
    await storage.ledger.capture(job_id="a", amount=Money(5), at=T0)
    await storage.ledger.release(job_id="c", at=T0)
    assert await storage.ledger.open_holds() == ["b"]


async def test_usage_sums_a_user_or_the_whole_pool(storage: Storage):
    await grant(storage, 40, user_id="u1")
    await grant(storage, 7, user_id=None)
    await hold(storage, "a", 30, user="u1")
    await hold(storage, "b", 20, user="u2")
    await storage.ledger.capture(job_id="b", amount=Money(15), at=T0)
    mine = await storage.ledger.usage(scope=SCOPE, user_id="u1", since=None)
    assert mine == Usage(spent=Money(0), held=Money(30), granted=Money(40))
    pool = await storage.ledger.usage(scope=SCOPE, user_id=None, since=None)
    assert pool == Usage(spent=Money(15), held=Money(30), granted=Money(7))
    other_scope = await storage.ledger.usage(scope="slack:T1", user_id=None, since=None)
    assert other_scope == Usage(spent=Money(0), held=Money(0), granted=Money(0))


async def test_entries_filter_by_user_and_half_open_period(storage: Storage):
    await hold(storage, "a", 1, at=T0)
    await hold(storage, "b", 2, at=T0 + DAY, user="u2")
    await hold(storage, "c", 3, at=T0 + 2 * DAY)
    assert [e.ref for e in await storage.ledger.entries(scope=SCOPE, user_id="u1")] == ["a", "c"]
    window = await storage.ledger.entries(scope=SCOPE, since=T0 + DAY, until=T0 + 2 * DAY)
    assert [e.ref for e in window] == ["b"]
    assert await storage.ledger.entries(scope="slack:elsewhere") == []


async def test_limits_of_other_scopes_see_only_their_own_entries(storage: Storage):
    await hold(storage, "a", 100)
    elsewhere = Limit("their pool", "slack:T9", None, Money(100), None, None)
    assert (await hold(storage, "b", 100, elsewhere)).admitted
