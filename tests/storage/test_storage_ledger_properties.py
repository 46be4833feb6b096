"""Random sequences of grants, holds, captures, releases and time steps against the ledger.

After every admitted hold no limit may be over its cap; usage must always equal what the
entries add up to; and a job never has more than one hold and one closing entry. The same
histories driven through `bot.budget.budgets.Budgets` with caps stored per scope (default, role,
override, pool) in Europe/Paris across a daylight-saving change also check that every window
runs from one local midnight to the next and that admission matches the caps exactly.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_testkit import T0

from bot.budget.budgets import Budgets, CapPolicy
from bot.errors import BudgetExceeded
from bot.money import Money
from bot.ports import Cap, CapKind, Entry, EntryKind, Limit, Rule, Usage
from storage import Storage

USERS = ["ann", "bob", "cy"]
USER_DAILY_CAP = Money(150)
POOL_CAP = Money(300)
GRANTS = {EntryKind.GRANT, EntryKind.ADJUST}

operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.sampled_from([*USERS, None]), st.integers(-40, 120)),
        st.tuples(st.just("hold"), st.sampled_from(USERS), st.integers(0, 90)),
        st.tuples(st.just("capture"), st.integers(0, 99), st.integers(0, 100)),
        st.tuples(st.just("release"), st.integers(0, 99), st.just(0)),
        st.tuples(st.just("hold again"), st.integers(0, 99), st.just(0)),
        st.tuples(st.just("wait hours"), st.integers(1, 30), st.just(0)),
    ),
    max_size=25,
)


def expected_usage(entries: list[Entry], user_id: str | None, since: datetime | None) -> Usage:
    """The ledger rules, spelled out over the raw entries."""
    closed = {e.ref for e in entries if e.kind in (EntryKind.CAPTURE, EntryKind.RELEASE)}
    window = [e for e in entries if since is None or e.effective_at >= since]
    counted = [e for e in window if user_id is None or e.user_id == user_id]

    def total(chosen: list[Entry]) -> Money:
        return Money(sum(e.amount.nanos for e in chosen))

    return Usage(
        spent=total([e for e in counted if e.kind is EntryKind.CAPTURE]),
        held=total([e for e in counted if e.kind is EntryKind.HOLD and e.ref not in closed]),
        granted=total([e for e in window if e.kind in GRANTS and e.user_id == user_id]),
    )


class Scenario:
    """One example's world: its own scope, so examples sharing a database never meet."""

    def __init__(self, storage: Storage) -> None:
        self.ledger = storage.ledger
        self.scope = f"prop:{uuid.uuid4().hex[:10]}"
        self.now = T0
        self.held_jobs: list[str] = []  # every job admitted, in order
        self.attempts = 0

    def limits(self, user_id: str) -> list[Limit]:
        day_start = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        return [
            Limit("daily", self.scope, user_id, USER_DAILY_CAP, day_start, None),
            Limit("pool", self.scope, None, POOL_CAP, None, None),
        ]

    async def entries(self) -> list[Entry]:
        return await self.ledger.entries(scope=self.scope)

    async def hold(self, user_id: str, amount: int) -> None:
        self.attempts += 1
        job_id, limits = f"{self.scope}:job-{self.attempts}", self.limits(user_id)
        before = await self.entries()
        fits = all(
            expected_usage(before, limit.user_id, limit.since).used + Money(amount) <= limit.limit
            for limit in limits
        )
        outcome = await self.ledger.hold(
            job_id=job_id,
            scope=self.scope,
            user_id=user_id,
            amount=Money(amount),
            limits=limits,
            at=self.now,
        )
        assert (outcome.admitted, outcome.replayed) == (fits, False)
        if not outcome.admitted:
            blocked = outcome.blocked_by
            assert blocked is not None and outcome.usage is not None
            assert outcome.usage == expected_usage(before, blocked.user_id, blocked.since)
            assert outcome.usage.used + Money(amount) > blocked.limit
            return
        self.held_jobs.append(job_id)
        for limit in limits:
            usage = await self.ledger.usage(
                scope=self.scope, user_id=limit.user_id, since=limit.since
            )
            assert usage.used <= limit.limit

    async def close(self, kind: str, pick: int, percent: int) -> None:
        if not self.held_jobs:
            return
        job_id = self.held_jobs[pick % len(self.held_jobs)]
        entries = [e for e in await self.entries() if e.ref == job_id]
        was_open = len(entries) == 1
        hold_amount = entries[0].amount.nanos
        if kind == "capture":
            amount = Money(hold_amount * percent // 100)
            closed = await self.ledger.capture(job_id=job_id, amount=amount, at=self.now)
        else:
            closed = await self.ledger.release(job_id=job_id, at=self.now)
        assert closed == was_open

    async def hold_again(self, pick: int) -> None:
        if not self.held_jobs:
            return
        job_id = self.held_jobs[pick % len(self.held_jobs)]
        outcome = await self.ledger.hold(
            job_id=job_id,
            scope=self.scope,
            user_id="whoever",
            amount=Money(1),
            limits=self.limits("whoever"),
            at=self.now,
        )
        assert outcome.admitted and outcome.replayed

    async def check_totals(self) -> None:
        entries = await self.entries()
        windows = [(u, s) for s in (None, self.limits("x")[0].since) for u in [*USERS, None]]
        for user_id, since in windows:
            usage = await self.ledger.usage(scope=self.scope, user_id=user_id, since=since)
            assert usage == expected_usage(entries, user_id, since)
        # Every window at once, in one statement, sums the same.
        assert await self.ledger.usages(scope=self.scope, windows=windows) == [
            expected_usage(entries, user_id, since) for user_id, since in windows
        ]
        per_job = Counter((e.ref, e.kind) for e in entries if e.kind not in GRANTS)
        closings = Counter(
            e.ref for e in entries if e.kind in (EntryKind.CAPTURE, EntryKind.RELEASE)
        )
        assert all(count == 1 for count in per_job.values())
        assert all(count == 1 for count in closings.values())
        open_here = {e.ref for e in entries if e.kind is EntryKind.HOLD} - set(closings)
        assert open_here <= set(await self.ledger.open_holds())


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
async def test_random_ledger_histories_keep_every_rule(storage: Storage, steps):
    scenario = Scenario(storage)
    for name, first, second in steps:
        if name == "grant":
            await storage.ledger.grant(
                scope=scenario.scope,
                user_id=first,
                amount=Money(second),
                at=scenario.now,
                actor="admin",
                note="",
            )
        elif name == "hold":
            await scenario.hold(first, second)
        elif name in ("capture", "release"):
            await scenario.close(name, first, second)
        elif name == "hold again":
            await scenario.hold_again(first)
        else:
            scenario.now += timedelta(hours=first)
    await scenario.check_totals()


# --- the budget policy over the ledger: stored caps, roles, pool, a DST change ------------------

PARIS = ZoneInfo("Europe/Paris")
# Saturday evening before Paris springs forward (Sunday 29 March 2026, 02:00 -> 03:00): random
# waits reach the 23-hour Sunday, the Monday week boundary and the 1 April month boundary.
BEFORE_DST = datetime(2026, 3, 28, 18, tzinfo=UTC)
ROLES = {"ann": ("editors",), "bob": (), "cy": ()}
STORED_CAPS = [
    Cap(CapKind.DEFAULT, "", Money(150), "day"),  # cy
    Cap(CapKind.ROLE, "editors", Money(200), "week"),  # ann, in place of the default
    Cap(CapKind.USER, "bob", Money(250), "month"),  # bob, in place of the default
    Cap(CapKind.POOL, "", Money(400), "month"),  # everyone together
]
ONE_MICROSECOND = timedelta(microseconds=1)

policy_operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.sampled_from([*USERS, None]), st.integers(-40, 120)),
        st.tuples(st.just("hold"), st.sampled_from(USERS), st.integers(0, 90)),
        st.tuples(st.just("capture"), st.integers(0, 99), st.integers(0, 100)),
        st.tuples(st.just("release"), st.integers(0, 99), st.just(0)),
        st.tuples(st.just("wait minutes"), st.integers(1, 900), st.just(0)),
        # to the next reset of the user's tightest window, or the microsecond before it
        st.tuples(st.just("to reset"), st.sampled_from(USERS), st.sampled_from([0, -1])),
    ),
    max_size=30,
)


def assert_window_is_local_midnight(limit: Limit, now: datetime) -> None:
    """The window is the local day, week or month containing `now`, from one local midnight
    to the next: checked from the definition, not from bot.budget.periods."""
    assert limit.since is not None and limit.resets_at is not None
    assert limit.since <= now < limit.resets_at
    start, end, local_now = (t.astimezone(PARIS) for t in (limit.since, limit.resets_at, now))
    assert start.time() == end.time() == time(0)
    assert (limit.since - ONE_MICROSECOND).astimezone(PARIS).date() < start.date()
    assert (limit.resets_at - ONE_MICROSECOND).astimezone(PARIS).date() < end.date()
    if "daily" in limit.name:
        assert start.date() == local_now.date() and (end.date() - start.date()).days == 1
    elif "weekly" in limit.name:
        assert start.weekday() == 0 and 0 <= (local_now.date() - start.date()).days < 7
        assert (end.date() - start.date()).days == 7
    else:
        assert "monthly" in limit.name
        assert start.day == 1 and (start.year, start.month) == (local_now.year, local_now.month)
        assert end.day == 1 and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1


class PolicyScenario(Scenario):
    """The same world driven through `Budgets`, with caps stored in the policy store."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage)
        self.now = BEFORE_DST
        self.budgets = Budgets(
            storage.ledger, CapPolicy(None, "day", ZoneInfo("UTC")), lambda: self.now,
            store=storage.policy,
        )  # fmt: skip

    async def store_caps(self, storage: Storage) -> None:
        for cap in STORED_CAPS:
            await storage.policy.set_cap(scope=self.scope, cap=cap, actor="a", reason="", at=T0)
        await storage.policy.set_rule(scope=self.scope, rule=Rule.TIMEZONE, value=PARIS.key,
                                      actor="a", reason="", at=T0)  # fmt: skip

    async def policy_limits(self, user_id: str) -> list[Limit]:
        limits = await self.budgets.limits_for(self.scope, user_id, ROLES[user_id])
        assert len(limits) == 2 and limits[-1].user_id is None  # one personal cap + the pool
        for limit in limits:
            assert_window_is_local_midnight(limit, self.now)
        return limits

    async def admit(self, user_id: str, amount: int) -> None:
        self.attempts += 1
        job_id, limits = f"{self.scope}:job-{self.attempts}", await self.policy_limits(user_id)
        before = await self.entries()
        fits = [
            expected_usage(before, limit.user_id, limit.since).used + Money(amount) <= limit.limit
            for limit in limits
        ]
        try:
            await self.budgets.admit(job_id=job_id, scope=self.scope, user_id=user_id,
                                     cost=Money(amount), roles=ROLES[user_id])  # fmt: skip
        except BudgetExceeded as refused:
            assert not all(fits)
            assert limits[fits.index(False)].name in str(refused)
            return
        assert all(fits)
        self.held_jobs.append(job_id)
        for limit in limits:
            usage = await self.ledger.usage(scope=self.scope, user_id=limit.user_id,
                                            since=limit.since)  # fmt: skip
            assert usage.used <= limit.limit

    async def to_reset(self, user_id: str, offset: int) -> None:
        resets = min(limit.resets_at for limit in await self.policy_limits(user_id))  # type: ignore[type-var]
        self.now = resets + offset * ONE_MICROSECOND

    async def check_policy_totals(self) -> None:
        entries = await self.entries()
        for user_id in USERS:
            for limit in await self.policy_limits(user_id):
                usage = await self.ledger.usage(scope=self.scope, user_id=limit.user_id,
                                                since=limit.since)  # fmt: skip
                assert usage == expected_usage(entries, limit.user_id, limit.since)
            statuses = await self.budgets.status(self.scope, user_id, ROLES[user_id])
            assert [s.usage for s in statuses] == [
                expected_usage(entries, s.limit.user_id, s.limit.since) for s in statuses
            ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=policy_operations)
async def test_random_histories_under_stored_caps_across_a_dst_change(storage: Storage, steps):
    scenario = PolicyScenario(storage)
    await scenario.store_caps(storage)
    for name, first, second in steps:
        if name == "grant":
            await storage.ledger.grant(scope=scenario.scope, user_id=first, amount=Money(second),
                                       at=scenario.now, actor="admin", note="")  # fmt: skip
        elif name == "hold":
            await scenario.admit(first, second)
        elif name in ("capture", "release"):
            await scenario.close(name, first, second)
        elif name == "wait minutes":
            scenario.now += timedelta(minutes=first)
        else:
            await scenario.to_reset(first, second)
    await scenario.check_policy_totals()
    await scenario.check_totals()


async def test_a_full_daily_cap_frees_up_exactly_at_local_midnight_after_a_23_hour_day(
    storage: Storage,
):
    scenario = PolicyScenario(storage)
    await scenario.store_caps(storage)
    scenario.now = datetime(2026, 3, 29, 12, tzinfo=UTC)  # the 23-hour Sunday in Paris
    await scenario.admit("cy", 150)
    midnight = datetime(2026, 3, 29, 22, tzinfo=UTC)  # 00:00 CEST on Monday 30 March
    scenario.now = midnight - ONE_MICROSECOND
    with pytest.raises(BudgetExceeded, match=r"your daily cap has \$0.00 left"):
        await scenario.budgets.admit(job_id=f"{scenario.scope}:late", scope=scenario.scope,
                                     user_id="cy", cost=Money(1))  # fmt: skip
    scenario.now = midnight
    await scenario.budgets.admit(job_id=f"{scenario.scope}:on-time", scope=scenario.scope,
                                 user_id="cy", cost=Money(150))  # fmt: skip
    (daily, _pool) = await scenario.policy_limits("cy")
    assert (daily.since, daily.resets_at - daily.since) == (midnight, timedelta(hours=24))
