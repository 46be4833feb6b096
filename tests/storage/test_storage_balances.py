"""The running balances admission reads (storage.balances) on SQLite and PostgreSQL: after any
sequence of holds, captures, releases, grants and time steps every balance row equals what the
entries add up to; `admin forget` renames them with the entries; revision 0008 back-fills them
from the entries already there; `balance_drift` names a row that no longer agrees."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import partial

from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update
from storage_testkit import T0
from test_storage_ledger_properties import expected_usage

from bot.jobs.forget import scrub
from bot.model import Platform
from bot.money import Money
from bot.ports import Entry, EntryKind, Forgetting, Limit, Throttle
from storage import Storage
from storage.migrate import _config
from storage.tables import EPOCH, POOL_SUBJECT, admission_balances

USERS = ["ann", "bob", "cy"]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.sampled_from([*USERS, None]), st.integers(-40, 120)),
        st.tuples(st.just("hold"), st.sampled_from(USERS), st.integers(0, 90)),
        st.tuples(st.just("capture"), st.integers(0, 99), st.integers(0, 100)),
        st.tuples(st.just("release"), st.integers(0, 99), st.just(0)),
        st.tuples(st.just("wait hours"), st.integers(1, 40), st.just(0)),
    ),
    max_size=25,
)


def _day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


class World:
    """One example: its own scope, caps of a day, of all time and the pool's of a week."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.scope = f"bal:{uuid.uuid4().hex[:10]}"
        self.now = T0
        self.jobs: list[str] = []

    def limits(self, user_id: str) -> list[Limit]:
        day = _day(self.now)
        week = day - timedelta(days=day.weekday())
        return [
            Limit("daily", self.scope, user_id, Money(150), day, day + timedelta(days=1)),
            Limit("ever", self.scope, user_id, Money(600), None, None),
            Limit("pool", self.scope, None, Money(400), week, week + timedelta(days=7)),
        ]

    async def step(self, name: str, first: str | int | None, second: int) -> None:
        ledger = self.storage.ledger
        if name == "grant":
            assert first is None or isinstance(first, str)
            await ledger.grant(
                scope=self.scope,
                user_id=first,
                amount=Money(second),
                at=self.now,
                actor="a",
                note="",
            )
        elif name == "hold":
            assert isinstance(first, str)
            job_id = f"{self.scope}:{len(self.jobs)}"
            outcome = await ledger.hold(
                job_id=job_id,
                scope=self.scope,
                user_id=first,
                amount=Money(second),
                limits=self.limits(first),
                at=self.now,
                throttle=Throttle(max_open=3),
            )
            if outcome.admitted:
                self.jobs.append(job_id)
        elif name in ("capture", "release") and self.jobs:
            assert isinstance(first, int)
            job_id = self.jobs[first % len(self.jobs)]
            if name == "release":
                await ledger.release(job_id=job_id, at=self.now)
            else:
                held = next(e for e in await self.entries() if e.ref == job_id).amount.nanos
                await ledger.capture(job_id=job_id, amount=Money(held * second // 100), at=self.now)
        elif name == "wait hours":
            assert isinstance(first, int)
            self.now += timedelta(hours=first)

    async def entries(self) -> list[Entry]:
        return await self.storage.ledger.entries(scope=self.scope)

    async def check(self) -> int:
        """Every balance row of the scope equals its entries' sums; returns how many rows."""
        entries = await self.entries()
        closed = {e.ref for e in entries if e.kind in (EntryKind.CAPTURE, EntryKind.RELEASE)}
        query = select(admission_balances).where(admission_balances.c.scope == self.scope)
        async with self.storage.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        for row in rows:
            user = None if row.subject == POOL_SUBJECT else row.subject
            since = None if row.window_start == EPOCH else row.window_start
            usage = expected_usage(entries, user, since)
            open_holds = sum(
                1
                for e in entries
                if e.kind is EntryKind.HOLD
                and e.ref not in closed
                and (since is None or e.effective_at >= since)
                and (user is None or e.user_id == user)
            )
            stored = (row.spent, row.held, row.granted, row.open_holds)
            expected = (usage.spent.nanos, usage.held.nanos, usage.granted.nanos, open_holds)
            assert stored == expected, (row, expected)
        return len(rows)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
async def test_random_histories_leave_balances_equal_to_the_entries(storage: Storage, steps):
    world = World(storage)
    for name, first, second in steps:
        await world.step(name, first, second)
    await world.check()
    assert await storage.ledger.balance_drift() == []


async def test_admission_keeps_the_balances_it_reads(storage: Storage):
    world = World(storage)
    await world.step("grant", None, 50)
    for hours in range(0, 60, 7):
        await world.step("hold", "ann", 40)
        await world.step("capture", hours, 50)
        await world.step("hold", "bob", 30)
        await world.step("wait hours", 7, 0)
    # ann and bob: a day, all time; the pool: its weeks: at least one row each.
    assert await world.check() >= 5
    assert await storage.ledger.balance_drift() == []


async def test_drift_is_named(storage: Storage):
    world = World(storage)
    await world.step("hold", "ann", 40)
    statement = update(admission_balances).where(admission_balances.c.scope == world.scope)
    async with storage.engine.begin() as connection:
        await connection.execute(statement.values(held=admission_balances.c.held + 1))
    drift = await storage.ledger.balance_drift()
    assert drift and all(world.scope in line for line in drift)


async def test_forget_renames_the_balances(storage: Storage):
    world = World(storage)
    for user in ("ann", "bob"):
        await world.step("hold", user, 40)
    at = T0 + timedelta(days=1)
    forgetting = Forgetting(
        platform=Platform.DISCORD,
        scope="guild-1",
        team=world.scope,
        user_id="ann",
        pseudonym="forgotten-ann",
        by="admin",
        detail="forgot a user",
        at=at,
        scrub=partial(scrub, pseudonym="forgotten-ann", at=at),
    )
    await storage.jobs.forget_user(forgetting)
    query = select(admission_balances.c.subject).where(admission_balances.c.scope == world.scope)
    async with storage.engine.connect() as connection:
        subjects = set((await connection.execute(query)).scalars())
    assert subjects == {"forgotten-ann", "bob", POOL_SUBJECT}
    await world.check()
    # The pseudonym's next hold reads the renamed balance (no back-fill, no double count).
    await world.step("hold", "forgotten-ann", 40)
    await world.check()
    assert await storage.ledger.balance_drift() == []


def _migrate(connection: Connection, revision: str) -> None:
    config = _config()
    config.attributes["connection"] = connection
    if revision == "head":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def test_the_migration_back_fills_lifetime_balances(storage: Storage):
    world = World(storage)
    for name, first, second in [
        ("grant", None, 70),
        ("grant", "ann", 20),
        ("hold", "ann", 40),
        ("hold", "bob", 30),
        ("capture", 0, 50),
        ("hold", "cy", 10),
        ("release", 2, 0),
        ("hold", "ann", 5),
    ]:
        await world.step(name, first, second)
    async with storage.engine.begin() as connection:
        await connection.run_sync(_migrate, "0007_saved_sheets")
    async with storage.engine.begin() as connection:
        await connection.run_sync(_migrate, "head")
    query = select(admission_balances.c.subject, admission_balances.c.window_start).where(
        admission_balances.c.scope == world.scope
    )
    async with storage.engine.connect() as connection:
        keys = set((await connection.execute(query)).all())
    assert keys == {(subject, EPOCH) for subject in ("ann", "bob", "cy", POOL_SUBJECT)}
    assert await world.check() == 4
    assert await storage.ledger.balance_drift() == []
