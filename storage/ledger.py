"""The append-only money ledger on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Entries are never updated. A job's money is a HOLD (at submission), then exactly one closing
entry: CAPTURE (spends at most the held amount) or RELEASE (spends nothing). Two partial unique
indexes (one HOLD, one closing entry per job) make hold/capture/release idempotent even when
replicas race. Grants add room; a negative grant is written as an ADJUST entry (both count as
"granted"). Every entry of a job carries the HOLD's `effective_at`: a job's money counts in the
period it was held, whenever it is captured.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.money import Money
from bot.ports import Entry, EntryKind, HoldOutcome, Limit, Throttle, Throttled, Usage
from storage.tables import ledger_entries

entry = ledger_entries
closing = ledger_entries.alias("closing")
GRANT_KINDS = (EntryKind.GRANT.value, EntryKind.ADJUST.value)
CLOSING_KINDS = (EntryKind.CAPTURE.value, EntryKind.RELEASE.value)
# Each hold row joined to its closing entry, if any (at most one, by the unique index).
entries_with_closing = entry.outerjoin(
    closing,
    and_(
        closing.c.ref == entry.c.ref,
        entry.c.kind == EntryKind.HOLD.value,
        closing.c.kind.in_(CLOSING_KINDS),
    ),
)


def _amount_sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, entry.c.amount), else_=0)), 0)


def _usage_columns(limit: Limit) -> list[Any]:
    """spent, held, granted for one limit, as aggregate columns over `entries_with_closing`."""
    in_window = [entry.c.scope == limit.scope]
    if limit.since is not None:
        in_window.append(entry.c.effective_at >= limit.since)
    if limit.user_id is None:  # the pool: every user's money, only the pool's grants
        counted, granted_to = and_(*in_window), entry.c.user_id.is_(None)
    else:
        counted = and_(*in_window, entry.c.user_id == limit.user_id)
        granted_to = entry.c.user_id == limit.user_id
    return [
        _amount_sum(and_(counted, entry.c.kind == EntryKind.CAPTURE.value)),
        _amount_sum(and_(counted, entry.c.kind == EntryKind.HOLD.value, closing.c.id.is_(None))),
        _amount_sum(and_(*in_window, granted_to, entry.c.kind.in_(GRANT_KINDS))),
    ]


def _usages_query(limits: Sequence[Limit], *columns: Any) -> Any:
    """One SELECT computing the usage of every limit at once (plus any extra columns first)."""
    usage_columns = [column for limit in limits for column in _usage_columns(limit)]
    if not usage_columns:
        return select(*columns)
    query = select(*columns, *usage_columns).select_from(entries_with_closing)
    query = query.where(entry.c.scope.in_(sorted({limit.scope for limit in limits})))
    if all(limit.since is not None for limit in limits):
        query = query.where(entry.c.effective_at >= min(limit.since for limit in limits))  # type: ignore[type-var]
    return query


def _usages(row: Sequence[Any], count: int) -> list[Usage]:
    values = [int(value) for value in row]
    return [
        Usage(spent=Money(values[i]), held=Money(values[i + 1]), granted=Money(values[i + 2]))
        for i in range(0, 3 * count, 3)
    ]


async def _lock_scopes(connection: AsyncConnection, scopes: Sequence[str]) -> None:
    """Serialize writers that change the room of these scopes, across replicas.

    PostgreSQL: a transaction-scoped advisory lock per scope (sorted, so two writers never wait
    on each other in opposite orders). Chosen over SERIALIZABLE because a burst of holds on one
    scope would mostly abort and retry there; the lock makes them queue, exactly once, and lets
    other scopes proceed in parallel. It covers the user caps and the pool of a scope at once.
    SQLite needs nothing here: every transaction begins IMMEDIATE (see storage.engine).
    """
    if connection.dialect.name != "postgresql":
        return
    for scope in sorted(set(scopes)):
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:scope, 0))"), {"scope": scope}
        )


async def _throttled(
    connection: AsyncConnection, throttle: Throttle, scope: str, user_id: str
) -> HoldOutcome | None:
    """The refusal when the user is at a throttle's count (read under the scope's lock)."""
    mine = and_(
        entry.c.scope == scope, entry.c.user_id == user_id, entry.c.kind == EntryKind.HOLD.value
    )
    if throttle.max_open is not None:
        count_open = select(func.count()).select_from(entries_with_closing)
        count_open = count_open.where(mine, closing.c.id.is_(None))
        in_flight = int((await connection.execute(count_open)).scalar_one())
        if in_flight >= throttle.max_open:
            return HoldOutcome(admitted=False, throttled=Throttled.IN_FLIGHT, count=in_flight)
    if throttle.max_recent is not None and throttle.recent_since is not None:
        if throttle.max_recent <= 0:
            return HoldOutcome(admitted=False, throttled=Throttled.RATE, count=0)
        # The newest `max_recent` holds in the window: if there are that many, the user is at
        # the limit until the oldest of them leaves the window.
        newest = (
            select(entry.c.created_at)
            .where(mine, entry.c.created_at > throttle.recent_since)
            .order_by(entry.c.created_at.desc(), entry.c.id.desc())
            .limit(throttle.max_recent)
        )
        times = list((await connection.execute(newest)).scalars())
        if len(times) >= throttle.max_recent:
            return HoldOutcome(
                admitted=False, throttled=Throttled.RATE, count=len(times), oldest_recent=times[-1]
            )
    return None


def _entry(row: Any) -> Entry:
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
        idempotent per job (see bot.ports)."""
        if amount.nanos < 0:
            raise ValueError(f"job {job_id}: a hold cannot be negative ({amount.nanos})")
        already_held = exists().where(entry.c.ref == job_id, entry.c.kind == EntryKind.HOLD.value)
        try:
            async with self._engine.begin() as connection:
                await _lock_scopes(connection, [scope, *(limit.scope for limit in limits)])
                query = _usages_query(limits, already_held.label("replayed"))
                row = (await connection.execute(query)).one()
                if row[0]:
                    return HoldOutcome(admitted=True, replayed=True)
                if throttle is not None:
                    refused = await _throttled(connection, throttle, scope, user_id)
                    if refused is not None:
                        return refused
                for limit, usage in zip(limits, _usages(row[1:], len(limits)), strict=True):
                    if usage.used + amount > limit.limit:
                        return HoldOutcome(admitted=False, blocked_by=limit, usage=usage)
                await connection.execute(
                    entry.insert().values(
                        kind=EntryKind.HOLD.value,
                        scope=scope,
                        user_id=user_id,
                        ref=job_id,
                        amount=amount.nanos,
                        effective_at=at,
                        created_at=at,
                    )
                )
        except IntegrityError:
            # Only the one-hold-per-job index can refuse this insert: the same job was held
            # by another writer under a different scope's lock.
            return HoldOutcome(admitted=True, replayed=True)
        return HoldOutcome(admitted=True)

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
        query = (
            select(entry, closing.c.id.label("closing_id"))
            .select_from(entries_with_closing)
            .where(entry.c.ref == job_id, entry.c.kind == EntryKind.HOLD.value)
        )
        try:
            async with self._engine.begin() as connection:
                hold = (await connection.execute(query)).first()
                if hold is None or hold.closing_id is not None:
                    return False
                if amount.nanos > hold.amount:
                    raise ValueError(
                        f"job {job_id}: capture of {amount.nanos} exceeds the hold of {hold.amount}"
                    )
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
            await _lock_scopes(connection, [scope])  # a negative grant must not race a hold
            entry_id = (await connection.execute(insert)).inserted_primary_key[0]  # type: ignore[index]
        return Entry(int(entry_id), kind, scope, user_id, ref, amount, when, when, actor, note)

    async def usage(self, *, scope: str, user_id: str | None, since: datetime | None) -> Usage:
        """Spent, held and granted for a user (or the whole pool) since a moment."""
        limit = Limit("usage", scope, user_id, Money.zero(), since, None)
        async with self._engine.connect() as connection:
            row = (await connection.execute(_usages_query([limit]))).one()
        return _usages(row, 1)[0]

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
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_entry(row) for row in rows]

    async def open_holds(self) -> list[str]:
        """Job ids whose hold is neither captured nor released, oldest hold first."""
        query = (
            select(entry.c.ref)
            .select_from(entries_with_closing)
            .where(entry.c.kind == EntryKind.HOLD.value, closing.c.id.is_(None))
            .order_by(entry.c.id)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(query)).scalars())
