"""Takes held all or nothing (`Ledger.hold_many`), on SQLite and PostgreSQL: one request's
holds are decided on their total and count, written together, then closed one by one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from storage_testkit import T0

from bot.money import Money
from bot.ports import EntryKind, HoldOutcome, Limit, Throttle, Throttled
from storage import Storage

SCOPE = f"discord:takes-{uuid.uuid4().hex[:8]}"  # advisory locks are per database
TAKE = 101_115_000  # one draft take: $0.101115


def cap(room: int) -> Limit:
    return Limit("your cap", SCOPE, "u1", Money(room), None, None)


async def takes(storage: Storage, group: str, n: int, *limits: Limit, **extra) -> HoldOutcome:
    holds = [(f"{group}-{k}", Money(TAKE)) for k in range(1, n + 1)]
    return await storage.ledger.hold_many(
        holds=holds, scope=SCOPE, user_id="u1", limits=limits, at=T0, **extra
    )


async def held(storage: Storage) -> list[str]:
    entries = await storage.ledger.entries(scope=SCOPE)
    return sorted(e.ref for e in entries if e.kind is EntryKind.HOLD)


async def test_three_takes_fit_four_do_not_and_nothing_is_held(storage: Storage):
    room = 3 * TAKE + TAKE // 2  # three and a half takes
    refused = await takes(storage, "four", 4, cap(room))
    assert not refused.admitted and refused.blocked_by == cap(room)
    assert await held(storage) == []
    assert (await takes(storage, "three", 3, cap(room))).admitted
    assert await held(storage) == ["three-1", "three-2", "three-3"]


async def test_each_take_is_captured_or_released_on_its_own(storage: Storage):
    assert (await takes(storage, "g", 3, cap(10 * TAKE))).admitted
    assert await storage.ledger.release(job_id="g-2", at=T0, note="take failed")
    assert await storage.ledger.capture(job_id="g-1", amount=Money(TAKE), at=T0)
    assert await storage.ledger.open_holds() == ["g-3"]
    usage = await storage.ledger.usage(scope=SCOPE, user_id="u1", since=None)
    assert (usage.spent, usage.held) == (Money(TAKE), Money(TAKE))


async def test_the_same_takes_again_are_replayed_not_held_twice(storage: Storage):
    first, again = await asyncio.gather(
        takes(storage, "g", 2, cap(10 * TAKE)), takes(storage, "g", 2, cap(10 * TAKE))
    )
    assert first == HoldOutcome(admitted=True) and again == HoldOutcome(True, replayed=True)
    assert await held(storage) == ["g-1", "g-2"]


async def test_every_take_counts_against_the_throttle(storage: Storage):
    in_flight = Throttle(max_open=3)
    refused = await takes(storage, "g", 4, throttle=in_flight)
    assert (refused.admitted, refused.throttled, refused.count) == (False, Throttled.IN_FLIGHT, 0)
    rate = Throttle(max_recent=4, recent_since=T0 - timedelta(minutes=1))
    assert (await takes(storage, "a", 3, throttle=rate)).admitted
    refused = await takes(storage, "b", 2, throttle=rate)
    assert (refused.throttled, refused.oldest_recent) == (Throttled.RATE, T0)
    assert await held(storage) == ["a-1", "a-2", "a-3"]


async def test_racing_takes_never_overspend_one_cap(storage: Storage):
    # Room for 10 takes: groups of 4, 3, 2 and single holds race; whatever wins, never more
    # than the room is held and every group is whole or absent.
    room = Limit("the team pool", SCOPE, None, Money(10 * TAKE), None, None)
    sizes = [4, 3, 2, 4, 1, 3, 2, 4, 1, 1, 3, 2]
    outcomes = await asyncio.gather(
        *(takes(storage, f"r{n}", size, room) for n, size in enumerate(sizes))
    )
    refs = await held(storage)
    for n, (size, outcome) in enumerate(zip(sizes, outcomes, strict=True)):
        mine = [ref for ref in refs if ref.startswith(f"r{n}-")]
        assert len(mine) == (size if outcome.admitted else 0)
    usage = await storage.ledger.usage(scope=SCOPE, user_id=None, since=None)
    assert usage.held == Money(TAKE * len(refs)) and usage.held <= room.limit
    # Decided in arrival order, as if alone: 4 + 3 + 2 fit (9), the next 4 not, the 1 does.
    assert [o.admitted for o in outcomes][:5] == [True, True, True, False, True]
