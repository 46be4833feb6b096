"""Job records on SQLAlchemy Core: the whole `Job` as a JSON document plus the columns queried.

`replace` is a compare-and-swap on `version`: a writer holding a stale copy loses and must
reload, so two replicas (or two tasks) never overwrite each other's state change. With
`wake=signals` the write also signals the job's driver: PostgreSQL's signals put the NOTIFY in
the write's own transaction (sent at commit, only when the write was stored); any other
signals (SQLite's, in one process) are sent right after the stored write.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import Executable, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.jobs.record import FINAL, Job, JobState
from bot.model import Platform
from bot.ports import Forgetting, Forgotten, JobSignals
from storage.engine import single_statement_reads, single_statement_writes
from storage.forget import forget_user
from storage.signals import PostgresJobSignals
from storage.tables import jobs


def _columns(job: Job) -> dict[str, object]:
    return {
        "version": job.version,
        "state": job.state.value,
        "platform": job.origin.platform.value,
        "scope": job.origin.scope,
        "user_id": job.origin.user_id,
        "fal_request_id": job.fal_request_id,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "document": job.model_dump_json(),
        "purged_at": job.purged_at,
    }


# Built once: a job is written about eight times, and building the statement each time
# (where-clause, values) cost as much as running it.
_INSERT = jobs.insert()
_REPLACE = jobs.update().where(
    jobs.c.id == bindparam("job_id"), jobs.c.version == bindparam("previous")
)


# Ids bound per SELECT: one query for a 90-day reconcile of this bot's volume, and well under
# SQLite's 32,766 and PostgreSQL's 32,767 bound parameters per statement.
CHUNK = 10_000


def _chunks(ids: Collection[str]) -> list[list[str]]:
    unique = sorted(set(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


class SqlJobStore:
    """`bot.ports.JobStore` on an async SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = single_statement_reads(engine)  # every read below is one SELECT
        self._write = single_statement_writes(engine)  # and every write one statement

    async def insert(self, job: Job) -> None:
        """Store a new job; ValueError when a job with this id exists already."""
        try:
            async with self._write() as connection:
                await connection.execute(_INSERT, {"id": job.id, **_columns(job)})
        except IntegrityError as error:
            raise ValueError(f"job {job.id} is already stored") from error

    async def get(self, job_id: str) -> Job | None:
        return await self._one(select(jobs.c.document).where(jobs.c.id == job_id))

    async def replace(self, job: Job, *, wake: JobSignals | None = None) -> bool:
        """Store `job` only if the stored version is `job.version - 1`; False otherwise.
        `wake`: also signal the job's driver, with the write (see the module's docstring)."""
        values = {"job_id": job.id, "previous": job.version - 1, **_columns(job)}
        signals = wake
        if isinstance(signals, PostgresJobSignals) and self._engine.dialect.name == "postgresql":
            async with self._engine.begin() as connection:  # one transaction: write + NOTIFY
                stored = (await connection.execute(_REPLACE, values)).rowcount == 1
                if stored:
                    await signals.notify_in(connection, job.id)
            return stored
        async with self._write() as connection:
            stored = (await connection.execute(_REPLACE, values)).rowcount == 1
        if stored and signals is not None:
            await signals.notify(job.id)
        return stored

    async def in_states(self, states: Iterable[JobState]) -> list[Job]:
        """Jobs in any of `states`, oldest first."""
        wanted = [JobState(state).value for state in states]
        if not wanted:
            return []
        query = (
            select(jobs.c.document)
            .where(jobs.c.state.in_(wanted))
            .order_by(jobs.c.created_at, jobs.c.id)
        )
        return await self._many(query)

    async def for_user(
        self, *, platform: Platform, scope: str, user_id: str, limit: int = 10
    ) -> list[Job]:
        """The user's jobs in a scope (the platform's own scope id), newest first."""
        query = (
            select(jobs.c.document)
            .where(
                jobs.c.platform == Platform(platform).value,
                jobs.c.scope == scope,
                jobs.c.user_id == user_id,
            )
            .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
            .limit(limit)
        )
        return await self._many(query)

    async def by_fal_request_id(self, request_id: str) -> Job | None:
        """The job fal knows by this request id (the newest, should a retry have reused it)."""
        query = (
            select(jobs.c.document)
            .where(jobs.c.fal_request_id == request_id)
            .order_by(jobs.c.created_at.desc())
            .limit(1)
        )
        return await self._one(query)

    async def ended_unpurged(
        self,
        *,
        before: datetime,
        platform: Platform | None = None,
        scope: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """Ended jobs last changed before `before` whose files are still on disk, oldest first
        (of one platform's scope when given)."""
        query = select(jobs.c.document).where(
            jobs.c.purged_at.is_(None),
            jobs.c.updated_at < before,
            jobs.c.state.in_(sorted(state.value for state in FINAL)),
        )
        if platform is not None and scope is not None:
            query = query.where(jobs.c.platform == platform.value, jobs.c.scope == scope)
        return await self._many(query.order_by(jobs.c.updated_at, jobs.c.id).limit(limit))

    async def by_fal_request_ids(self, request_ids: Collection[str]) -> dict[str, Job]:
        """The job of each request id (the newest should a retry have reused one)."""
        found: dict[str, Job] = {}
        for chunk in _chunks(request_ids):
            query = (
                select(jobs.c.document)
                .where(jobs.c.fal_request_id.in_(chunk))
                .order_by(jobs.c.created_at, jobs.c.id)
            )
            for job in await self._many(query):
                found[job.fal_request_id or ""] = job  # oldest first: the newest stays
        return found

    async def many(self, job_ids: Collection[str]) -> dict[str, Job]:
        found: dict[str, Job] = {}
        for chunk in _chunks(job_ids):
            found |= {
                j.id: j
                for j in await self._many(select(jobs.c.document).where(jobs.c.id.in_(chunk)))
            }
        return found

    async def count_by_state(self) -> dict[JobState, int]:
        """How many jobs are in each state (states with none are left out): one GROUP BY on
        the state index, for the metrics scrape."""
        query = select(jobs.c.state, func.count()).group_by(jobs.c.state)
        async with self._reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {JobState(state): count for state, count in rows}

    async def forget_user(self, forgetting: Forgetting) -> Forgotten:
        """See `bot.ports.JobStore.forget_user` (`storage.forget`)."""
        return await forget_user(self._engine, forgetting)

    async def _one(self, query: Executable) -> Job | None:
        found = await self._many(query)
        return found[0] if found else None

    async def _many(self, query: Executable) -> list[Job]:  # SELECTs of documents
        async with self._reads.connect() as connection:
            documents = (await connection.execute(query)).scalars().all()
        return [Job.model_validate_json(document) for document in documents]
