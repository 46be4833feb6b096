"""The policy store (caps, rules, audit, alert marks) and the ledger's throttles, on SQLite and
PostgreSQL alike; and migrating a 0001 database to 0002 keeps its ledger."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from storage_testkit import T0

from bot.budget.budgets import Budgets, CapPolicy
from bot.errors import BudgetExceeded
from bot.money import Money
from bot.ports import Cap, CapKind, Limit, Rule, Throttle, Throttled
from storage import Storage, open_storage
from storage.engine import create_engine
from storage.migrate import MIGRATIONS
from storage.tables import ledger_entries

SCOPE = "discord:guild-1"


async def test_caps_are_upserted_listed_in_order_and_cleared_with_an_audit_entry(storage):
    store = storage.policy
    await store.set_cap(scope=SCOPE, cap=Cap(CapKind.POOL, "", Money.usd("50"), "month"),
                        actor="root", reason="Q4", at=T0)  # fmt: skip
    await store.set_cap(scope=SCOPE, cap=Cap(CapKind.USER, "bob", None, "day"),
                        actor="root", reason="", at=T0)  # fmt: skip
    await store.set_cap(scope=SCOPE, cap=Cap(CapKind.POOL, "", Money.usd("80"), "week"),
                        actor="admin2", reason="more", at=T0 + timedelta(hours=1))  # fmt: skip
    await store.set_cap(scope="slack:T1", cap=Cap(CapKind.DEFAULT, "", Money(5), "day"),
                        actor="x", reason="", at=T0)  # fmt: skip
    caps = await store.caps(scope=SCOPE)
    assert [(c.kind, c.subject, c.amount, c.period, c.set_by) for c in caps] == [
        (CapKind.POOL, "", Money.usd("80"), "week", "admin2"),
        (CapKind.USER, "bob", None, "day", "root"),
    ]
    assert caps[0].set_at == T0 + timedelta(hours=1)
    assert await store.clear_cap(scope=SCOPE, kind=CapKind.USER, subject="bob", actor="root",
                                 reason="left the team", at=T0)  # fmt: skip
    assert not await store.clear_cap(scope=SCOPE, kind=CapKind.USER, subject="bob",
                                     actor="root", reason="", at=T0)  # fmt: skip
    log = await store.audit(scope=SCOPE)
    assert [(e.action, e.detail, e.reason) for e in log] == [
        ("caps clear", "user bob", "left the team"),
        ("caps set", "pool = $80.00 per week", "more"),
        ("caps set", "user bob = uncapped per day", ""),
        ("caps set", "pool = $50.00 per month", "Q4"),
    ]


async def test_two_admins_setting_one_cap_at_once_both_succeed(storage):
    await asyncio.gather(*(
        storage.policy.set_cap(scope=SCOPE, cap=Cap(CapKind.DEFAULT, "", Money(n), "day"),
                               actor=f"a{n}", reason="", at=T0)
        for n in range(1, 11)
    ))  # fmt: skip
    caps = await storage.policy.caps(scope=SCOPE)
    assert len(caps) == 1 and caps[0].amount == Money(int(caps[0].set_by[1:]))  # type: ignore[index]
    assert len(await storage.policy.audit(scope=SCOPE, limit=50)) == 10


async def test_rules_are_set_replaced_and_removed(storage):
    store = storage.policy
    await store.set_rule(scope=SCOPE, rule=Rule.MAX_IN_FLIGHT, value="3", actor="r", reason="",
                         at=T0)  # fmt: skip
    await store.set_rule(scope=SCOPE, rule=Rule.MAX_IN_FLIGHT, value="2", actor="r", reason="",
                         at=T0)  # fmt: skip
    await store.set_rule(scope=SCOPE, rule=Rule.TIMEZONE, value="Europe/Paris", actor="r",
                         reason="", at=T0)  # fmt: skip
    expected = {Rule.MAX_IN_FLIGHT: "2", Rule.TIMEZONE: "Europe/Paris"}
    assert await store.rules(scope=SCOPE) == expected
    await store.set_rule(scope=SCOPE, rule=Rule.MAX_IN_FLIGHT, value=None, actor="r", reason="",
                         at=T0)  # fmt: skip
    assert await store.rules(scope=SCOPE) == {Rule.TIMEZONE: "Europe/Paris"}
    assert (await store.audit(scope=SCOPE))[0].detail == "jobs = default"


async def test_an_alert_is_marked_once_per_cap_user_and_period_even_when_racing(storage):
    def mark(user: str = "u1", period_start=T0):
        return storage.policy.first_alert(scope=SCOPE, cap="your daily cap", user_id=user,
                                          period_start=period_start, at=T0)  # fmt: skip

    results = await asyncio.gather(*(mark() for _ in range(12)))
    assert sorted(results) == [False] * 11 + [True]
    assert await mark(user="u2") and await mark(period_start=T0 + timedelta(days=1))
    assert not await mark()


async def hold(storage: Storage, job_id: str, throttle: Throttle, user="u1", at=T0, limits=()):
    return await storage.ledger.hold(job_id=job_id, scope=SCOPE, user_id=user, amount=Money(10),
                                     limits=limits, at=at, throttle=throttle)  # fmt: skip


async def test_the_in_flight_throttle_counts_only_this_users_open_holds(storage):
    two = Throttle(max_open=2)
    assert (await hold(storage, "a", two)).admitted and (await hold(storage, "b", two)).admitted
    refused = await hold(storage, "c", two)
    assert (refused.admitted, refused.throttled, refused.count) == (False, Throttled.IN_FLIGHT, 2)
    assert (await hold(storage, "d", two, user="u2")).admitted
    assert (await hold(storage, "a", two)).replayed  # a replay is never throttled
    await storage.ledger.capture(job_id="a", amount=Money(10), at=T0)
    assert (await hold(storage, "c", two)).admitted


async def test_the_rate_throttle_counts_holds_after_the_window_start(storage):
    def rate(now):
        return Throttle(max_recent=2, recent_since=now - timedelta(minutes=1))

    for n, seconds in enumerate((0, 20)):
        at = T0 + timedelta(seconds=seconds)
        assert (await hold(storage, f"j{n}", rate(at), at=at)).admitted
    at = T0 + timedelta(seconds=59)
    refused = await hold(storage, "j2", rate(at), at=at)
    assert (refused.throttled, refused.count, refused.oldest_recent) == (Throttled.RATE, 2, T0)
    at = T0 + timedelta(seconds=60)
    assert (await hold(storage, "j2", rate(at), at=at)).admitted


async def test_racing_holds_of_one_user_never_exceed_the_in_flight_limit(storage):
    pool = Limit("the team pool", SCOPE, None, Money(1000), None, None)
    outcomes = await asyncio.gather(*(
        hold(storage, f"race-{n}", Throttle(max_open=3), limits=[pool]) for n in range(30)
    ))  # fmt: skip
    assert sum(o.admitted for o in outcomes) == 3
    assert len(await storage.ledger.open_holds()) == 3


async def test_migrating_a_0001_database_keeps_its_ledger(storage_url: str):
    engine = create_engine(storage_url)

    def to_0001(connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    async with engine.begin() as connection:
        await connection.run_sync(to_0001)
    # The hold as a 0001 database keeps it (today's ledger also writes balances, 0008).
    hold = {"kind": "hold", "scope": SCOPE, "user_id": "u", "ref": "old", "amount": 5}
    async with engine.begin() as connection:
        await connection.execute(ledger_entries.insert(), {**hold, "effective_at": T0,
                                                           "created_at": T0})  # fmt: skip
    await engine.dispose()
    opened = await open_storage(storage_url)  # upgrades to head
    try:
        assert await opened.ledger.open_holds() == ["old"]
        assert await opened.ledger.balance_drift() == []  # 0008 back-filled the hold
        refused = await opened.ledger.hold(job_id="new", scope=SCOPE, user_id="u",
                                           amount=Money(5), limits=(), at=T0,
                                           throttle=Throttle(max_open=1))  # fmt: skip
        assert refused.throttled is Throttled.IN_FLIGHT
        assert await opened.policy.caps(scope=SCOPE) == []
    finally:
        await opened.close()


async def test_many_users_racing_one_stored_pool_never_exceed_it(storage):
    await storage.policy.set_cap(scope=SCOPE, cap=Cap(CapKind.POOL, "", Money(100), "month"),
                                 actor="root", reason="", at=T0)  # fmt: skip
    budgets = Budgets(storage.ledger, CapPolicy(Money(50), "day", ZoneInfo("UTC")), lambda: T0,
                      store=storage.policy)  # fmt: skip

    async def attempt(n: int) -> bool:
        try:
            await budgets.admit(job_id=f"j{n}", scope=SCOPE, user_id=f"u{n % 8}", cost=Money(7))
        except BudgetExceeded as refused:
            assert "pool" in str(refused) or "your daily cap" in str(refused)
            return False
        return True

    admitted = sum(await asyncio.gather(*(attempt(n) for n in range(40))))
    assert admitted == 14  # 14 x 7 = 98 <= 100 < 105; no user reaches their own $50
    usage = await storage.ledger.usage(scope=SCOPE, user_id=None, since=None)
    assert usage.held == Money(98)
