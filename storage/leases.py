"""`bot.ports.JobLeases` on SQLAlchemy Core: one lease row per driven job, by the database's clock.

Every decision is one statement, so two replicas can never both win: a claim is
`INSERT ... ON CONFLICT (job_id) DO UPDATE ... WHERE the stored lease ran out or is ours
RETURNING job_id` (PostgreSQL re-checks the WHERE on the row a racing winner committed; SQLite
runs one writer at a time), a renewal `UPDATE ... WHERE owner = me RETURNING job_id`. "Now" is
the database's own clock inside the statement (PostgreSQL's `clock_timestamp()`, SQLite's
`julianday('now')`), so replicas whose clocks disagree still agree on who holds what.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Double,
    Executable,
    and_,
    delete,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.jobs.record import ACTIVE, FINAL, JobState
from bot.model import Platform
from storage.engine import single_statement_reads, single_statement_writes
from storage.tables import job_leases, jobs

leases = job_leases
_NEEDS_A_DRIVER = sorted(state.value for state in ACTIVE)
_SUCCEEDED = JobState.SUCCEEDED.value
_UNFINISHED = [*_NEEDS_A_DRIVER, _SUCCEEDED]
_ENDED = sorted(state.value for state in FINAL)
# Well under both databases' bound parameters per statement (SQLite 32,766, PostgreSQL 32,767).
CLAIMS_PER_STATEMENT = 300  # rows per INSERT (3 parameters each)
RENEWALS_PER_STATEMENT = 10_000  # ids per UPDATE
_EPOCH_SECONDS = {
    # clock_timestamp(), not now(): now() is the transaction's start, which may be long ago.
    "postgresql": "extract(epoch from clock_timestamp())::double precision",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}


class SqlJobLeases:
    """Job leases in the `job_leases` table (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = single_statement_reads(engine)
        self._write = single_statement_writes(engine)
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._now: ColumnElement[float] = literal_column(
            _EPOCH_SECONDS[engine.dialect.name], Double()
        )

    async def claim(self, *, job_id: str, owner: str, seconds: float) -> bool:
        return bool(await self.claim_many(job_ids=[job_id], owner=owner, seconds=seconds))

    async def claim_many(self, *, job_ids: Collection[str], owner: str, seconds: float) -> set[str]:
        won: set[str] = set()
        unique = sorted(set(job_ids))  # PostgreSQL refuses to update one row twice per statement
        for start in range(0, len(unique), CLAIMS_PER_STATEMENT):
            chunk = unique[start : start + CLAIMS_PER_STATEMENT]
            async with self._write() as connection:
                rows = await connection.execute(self._claims(chunk, owner, seconds))
                won.update(str(job_id) for job_id in rows.scalars())
        return won

    def _claims(self, job_ids: list[str], owner: str, seconds: float) -> Executable:
        expiry = self._now + seconds
        statement: postgresql.Insert | sqlite.Insert = self._dialect.insert(leases).values(
            [{"job_id": j, "owner": owner, "expires_at": expiry} for j in job_ids]
        )
        mine = leases.c.owner == statement.excluded.owner
        claims = statement.on_conflict_do_update(
            index_elements=[leases.c.job_id],
            set_={"owner": statement.excluded.owner, "expires_at": statement.excluded.expires_at},
            where=or_(leases.c.expires_at <= self._now, mine),
        )
        return claims.returning(leases.c.job_id)

    async def renew(self, *, owner: str, job_ids: Collection[str], seconds: float) -> set[str]:
        kept: set[str] = set()
        unique = sorted(set(job_ids))
        for start in range(0, len(unique), RENEWALS_PER_STATEMENT):
            chunk = unique[start : start + RENEWALS_PER_STATEMENT]
            statement = (
                update(leases)
                .where(leases.c.owner == owner, leases.c.job_id.in_(chunk))
                .values(expires_at=self._now + seconds)
                .returning(leases.c.job_id)
            )
            async with self._write() as connection:
                kept.update((await connection.execute(statement)).scalars().all())
        return kept

    async def release(self, *, job_id: str, owner: str) -> None:
        statement = delete(leases).where(leases.c.job_id == job_id, leases.c.owner == owner)
        async with self._write() as connection:
            await connection.execute(statement)

    async def hand_back(self, *, owner: str) -> int:
        # Ended, not deleted: an ended row tells the others "its driver is gone" (a succeeded
        # job without a row is a delivery put off on purpose, left to the sweep).
        statement = (
            update(leases)
            .where(leases.c.owner == owner)
            .values(expires_at=self._now - 1.0)
            .returning(leases.c.job_id)
        )
        async with self._write() as connection:
            return len((await connection.execute(statement)).all())

    async def lapsed(
        self,
        *,
        platforms: Collection[Platform],
        limit: int,
        undelivered: bool = False,
        unclaimed_before: datetime | None = None,
        owner: str | None = None,
    ) -> list[str]:
        ran_out: ColumnElement[bool] = leases.c.expires_at <= self._now
        if owner is not None:
            ran_out = or_(ran_out, leases.c.owner == owner)
        unclaimed: ColumnElement[bool] = leases.c.job_id.is_(None)
        delivery = ran_out if not undelivered else or_(ran_out, unclaimed)
        if unclaimed_before is not None:
            unclaimed = and_(unclaimed, jobs.c.updated_at < unclaimed_before)
        query = (
            select(jobs.c.id)
            .select_from(jobs.outerjoin(leases, leases.c.job_id == jobs.c.id))
            .where(
                jobs.c.platform.in_(sorted(Platform(p).value for p in platforms)),
                or_(
                    and_(jobs.c.state.in_(_NEEDS_A_DRIVER), or_(unclaimed, ran_out)),
                    and_(jobs.c.state == _SUCCEEDED, delivery),
                ),
            )
            .order_by(jobs.c.created_at, jobs.c.id)
            .limit(limit)
        )
        async with self._reads.connect() as connection:
            return list((await connection.execute(query)).scalars().all())

    async def driven_elsewhere(
        self, *, owner: str, platforms: Collection[Platform]
    ) -> dict[str, float]:
        left = (leases.c.expires_at - self._now).label("left")
        query = (
            select(jobs.c.id, left)
            .select_from(jobs.join(leases, leases.c.job_id == jobs.c.id))
            .where(
                jobs.c.platform.in_(sorted(Platform(p).value for p in platforms)),
                jobs.c.state.in_(_UNFINISHED),
                leases.c.owner != owner,
                leases.c.expires_at > self._now,
            )
        )
        async with self._reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {job_id: max(0.0, float(seconds)) for job_id, seconds in rows}

    async def forget_ended(self) -> int:
        ended = select(jobs.c.id).where(jobs.c.state.in_(_ENDED))
        statement = (
            delete(leases)
            .where(leases.c.expires_at <= self._now, leases.c.job_id.in_(ended))
            .returning(leases.c.job_id)
        )
        async with self._write() as connection:
            return len((await connection.execute(statement)).all())
