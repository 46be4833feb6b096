"""Random sequences of grants, holds, captures, releases and time steps against the ledger.

After every admitted hold no limit may be over its cap; usage must always equal what the
entries add up to; and a job never has more than one hold and one closing entry.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_testkit import T0

from bot.money import Money
from bot.ports import Entry, EntryKind, Limit, Usage
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
        for since in (None, self.limits("x")[0].since):
            for user_id in [*USERS, None]:
                usage = await self.ledger.usage(scope=self.scope, user_id=user_id, since=since)
                assert usage == expected_usage(entries, user_id, since)
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
