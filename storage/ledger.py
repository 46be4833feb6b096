"""The append-only money ledger on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Entries are never updated. A job's money is a HOLD (at submission), then exactly one closing
entry: CAPTURE (spends at most the held amount) or RELEASE (spends nothing). Two partial unique
indexes (one HOLD, one closing entry per job) make hold/capture/release idempotent even when
replicas race. Grants add room; a negative grant is written as an ADJUST entry (both count as
"granted"). Every entry of a job carries the HOLD's `effective_at`: a job's money counts in the
period it was held, whenever it is captured.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.money import Money
from bot.ports import Entry, EntryKind, HoldOutcome, Limit, Throttle, Usage
from storage import balances
from storage.admission import Admissions
from storage.admission_tallies import Request
from storage.engine import single_statement_reads
from storage.usage import (
    HOLD,
    Window,
    closing,
    entries_with_closing,
    entry,
    lock_scopes,
    pool_usage,
    users_usage,
    windows_usage,
)

# A job's hold and its closing entry, if any.
_hold_of_job = (
    select(entry, closing.c.id.label("closing_id"))
    .select_from(entries_with_closing)
    .where(entry.c.ref == bindparam("ref"), entry.c.kind == HOLD)
)
_open_holds = (
    select(entry.c.ref)
    .select_from(entries_with_closing)
    .where(entry.c.kind == HOLD, closing.c.id.is_(None))
    .order_by(entry.c.id)
)


def _entry(row: Row[Any]) -> Entry:  # Any: SQLAlchemy types a Table's rows Row[Any]
    return Entry(
        id=row.id,
        kind=EntryKind(row.kind),
        scope=row.scope,
        user_id=row.user_id,
        ref=row.ref,
        amount=Money(int(row.amount)),
        effective_at=row.effective_at,
        created_at=row.created_at,
        actor=row.actor,
        note=row.note,
    )


class SqlLedger:
    """`bot.ports.Ledger` on an async SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Every read below is one SELECT: no write lock, no BEGIN (see storage.engine).
        self._reads = single_statement_reads(engine)
        self._admissions = Admissions(engine)

    async def close(self) -> None:
        """Stop the admission tasks (the engine is closed by `Storage.close`)."""
        await self._admissions.close()

    async def hold(
        self,
        *,
        job_id: str,
        scope: str,
        user_id: str,
        amount: Money,
        limits: Sequence[Limit],
        at: datetime,
        throttle: Throttle | None = None,
    ) -> HoldOutcome:
        """Write the hold only if every limit has room and the user is within the throttle;
        idempotent per job (see bot.ports). Concurrent holds of a scope are decided together
        in one transaction, each as if alone (see storage.admission)."""
        if amount.nanos < 0:
            raise ValueError(f"job {job_id}: a hold cannot be negative ({amount.nanos})")
        future = asyncio.get_running_loop().create_future()
        request = Request(job_id, scope, user_id, amount, tuple(limits), at, throttle, future)
        return await self._admissions.hold(request)

    async def hold_many(
        self,
        *,
        holds: Sequence[tuple[str, Money]],
        scope: str,
        user_id: str,
        limits: Sequence[Limit],
        at: datetime,
        throttle: Throttle | None = None,
    ) -> HoldOutcome:
        """Hold every (job, amount) or none, decided as one hold of their total and count in
        the scope's batch (see bot.ports)."""
        if not holds or any(amount.nanos < 0 for _, amount in holds):
            raise ValueError(f"holds {[j for j, _ in holds]}: none, or one is negative")
        total = Money(sum(amount.nanos for _, amount in holds))
        future = asyncio.get_running_loop().create_future()
        first = holds[0][0]
        request = Request(
            first, scope, user_id, total, tuple(limits), at, throttle, future, tuple(holds)
        )
        return await self._admissions.hold(request)

    async def capture(self, *, job_id: str, amount: Money, at: datetime) -> bool:
        """Close the hold spending `amount`; ValueError when it exceeds the held amount."""
        return await self._close(job_id, EntryKind.CAPTURE, amount, at, note=None)

    async def release(self, *, job_id: str, at: datetime, note: str | None = None) -> bool:
        """Close the hold spending nothing."""
        return await self._close(job_id, EntryKind.RELEASE, Money.zero(), at, note=note)

    async def _close(
        self, job_id: str, kind: EntryKind, amount: Money, at: datetime, note: str | None
    ) -> bool:
        if amount.nanos < 0:
            raise ValueError(f"job {job_id}: cannot capture a negative amount ({amount.nanos})")
        try:
            async with self._engine.begin() as connection:
                hold = (await connection.execute(_hold_of_job, {"ref": job_id})).first()
                if hold is None or hold.closing_id is not None:
                    return False
                if amount.nanos > hold.amount:
                    raise ValueError(
                        f"job {job_id}: capture of {amount.nanos} exceeds the hold of {hold.amount}"
                    )
                # The balances change with the entry, under the lock their back-fills take.
                await lock_scopes(connection, [hold.scope])
                await connection.execute(
                    entry.insert().values(
                        kind=kind.value,
                        scope=hold.scope,
                        user_id=hold.user_id,
                        ref=job_id,
                        amount=amount.nanos,
                        effective_at=hold.effective_at,
                        created_at=at,
                        note=note,
                    )
                )
                closed = balances.Change(
                    hold.scope,
                    hold.user_id,
                    hold.effective_at,
                    spent=amount.nanos if kind is EntryKind.CAPTURE else 0,
                    held=-int(hold.amount),
                    open_holds=-1,
                )
                await balances.apply(connection, [closed])
        except IntegrityError:
            return False  # another writer closed it first (the one-closing-entry index)
        return True

    async def grant(
        self,
        *,
        scope: str,
        user_id: str | None,
        amount: Money,
        at: datetime,
        actor: str,
        note: str,
    ) -> Entry:
        """Add room for a user (or the pool); a negative amount is written as an ADJUST."""
        kind = EntryKind.GRANT if amount.nanos >= 0 else EntryKind.ADJUST
        ref, when = f"grant:{uuid.uuid4().hex}", at.astimezone(UTC)
        insert = entry.insert().values(
            kind=kind.value,
            scope=scope,
            user_id=user_id,
            ref=ref,
            amount=amount.nanos,
            effective_at=when,
            created_at=when,
            actor=actor,
            note=note,
        )
        async with self._engine.begin() as connection:
            await lock_scopes(connection, [scope])  # a negative grant must not race a hold
            # SQLAlchemy types inserted_primary_key as an optional Row.
            entry_id = (await connection.execute(insert)).inserted_primary_key[0]  # type: ignore[index]
            granted = balances.Change(scope, user_id, when, granted=amount.nanos)
            await balances.apply(connection, [granted])
        return Entry(int(entry_id), kind, scope, user_id, ref, amount, when, when, actor, note)

    async def usage(self, *, scope: str, user_id: str | None, since: datetime | None) -> Usage:
        """Spent, held and granted for a user (or the whole pool) since a moment."""
        if user_id is None:
            statement, params = pool_usage(scope, since)
        else:
            statement, params = users_usage(scope, [user_id], since)
        async with self._reads.connect() as connection:
            row = (await connection.execute(statement, params)).first()
        spent, held, granted = (int(value) for value in row[-3:]) if row else (0, 0, 0)
        return Usage(spent=Money(spent), held=Money(held), granted=Money(granted))

    async def usages(self, *, scope: str, windows: Sequence[Window]) -> list[Usage]:
        """`usage` of each (user or None for the pool, since) window of a scope, in order, from
        one statement (one snapshot: the caps' sums agree with each other)."""
        if not windows:
            return []
        statement, params = windows_usage(scope, windows)
        async with self._reads.connect() as connection:
            row = (await connection.execute(statement, params)).one()
        sums = [int(value) for value in row]
        return [
            Usage(spent=Money(sums[i]), held=Money(sums[i + 1]), granted=Money(sums[i + 2]))
            for i in range(0, len(sums), 3)
        ]

    async def entries(
        self,
        *,
        scope: str,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]:
        """A scope's entries (one user's when `user_id` is given), effective in [since, until),
        oldest first."""
        query = select(entry).where(entry.c.scope == scope)
        if user_id is not None:
            query = query.where(entry.c.user_id == user_id)
        if since is not None:
            query = query.where(entry.c.effective_at >= since)
        if until is not None:
            query = query.where(entry.c.effective_at < until)
        query = query.order_by(entry.c.effective_at, entry.c.id)
        async with self._reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_entry(row) for row in rows]

    async def balance_drift(self) -> list[str]:
        """Every running balance admission reads that differs from its entries' sums, described
        (empty when none does: see storage.balances)."""
        async with self._engine.connect() as connection:
            return await balances.drift(connection)

    async def open_holds(self) -> list[str]:
        """Job ids whose hold is neither captured nor released, oldest hold first."""
        async with self._reads.connect() as connection:
            return list((await connection.execute(_open_holds)).scalars())
