"""Admission with group commit: the holds one process asks for at once, decided in one transaction.

A hold must see every cap's usage, the user's in-flight and recent holds, and write itself, as
one atomic step. Done one by one, each hold pays a transaction and four statements, and the
scope's lock (or SQLite's write lock) is held across them while the event loop serves others:
a few hundred holds per second at most. Here the holds queued for a scope while the previous
batch ran are taken together: one transaction takes the scope locks (PostgreSQL; SQLite begins
IMMEDIATE), reads what is already held in a few grouped statements, then decides each hold *in
arrival order* exactly as if it ran alone, adding each admitted hold to the tallies the later
ones are checked against, and writes the admitted holds with one multi-row insert. Because the
locks are held from the reads to the commit, the outcome is the one the holds would have had
run serially; a batch that fails (database error) fails every hold in it and writes nothing.

A request may hold several jobs at once (`parts`: a generate's takes): it is decided as one,
on their total and their count, and its holds are written together or not at all.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import EntryKind, HoldOutcome, Limit
from storage.admission_tallies import Request, Tallies, UsageKey

__all__ = ["Admissions", "Request", "admit_batch"]
from storage.usage import (
    HOLD,
    closing,
    entries_with_closing,
    entry,
    lock_scopes,
    pool_usage,
    users_usage,
)

MAX_BATCH = 200  # holds per transaction: bounds the lock time and the IN lists
RETRIES = 3  # a batch is re-run when another replica held one of its jobs meanwhile

_held_jobs = select(entry.c.ref).where(
    entry.c.kind == HOLD, entry.c.ref.in_(bindparam("refs", expanding=True))
)
_mine = (
    entry.c.scope == bindparam("scope"),
    entry.c.user_id.in_(bindparam("users", expanding=True)),
    entry.c.kind == HOLD,
)
_in_flight = (
    select(entry.c.user_id, func.count())
    .select_from(entries_with_closing)
    .where(*_mine, closing.c.id.is_(None))
    .group_by(entry.c.user_id)
)
_recent = select(entry.c.user_id, entry.c.created_at).where(
    *_mine, entry.c.created_at > bindparam("since", type_=entry.c.created_at.type)
)
_insert = entry.insert()


async def _read_usage(
    connection: AsyncConnection, limits: Sequence[Limit]
) -> dict[UsageKey, list[int]]:
    """Every limit's spent, held and granted, in one statement per (scope, window start)."""
    groups: dict[tuple[str, datetime | None], set[str | None]] = defaultdict(set)
    for limit in limits:
        groups[(limit.scope, limit.since)].add(limit.user_id)
    usage: dict[UsageKey, list[int]] = {}
    for (scope, since), users in groups.items():
        named = sorted(user for user in users if user is not None)
        if named:
            statement, params = users_usage(scope, named, since)
            found = {row[0]: row[1:] for row in await connection.execute(statement, params)}
            for user in named:
                usage[(scope, since, user)] = [int(v) for v in found.get(user, (0, 0, 0))]
        if None in users:
            statement, params = pool_usage(scope, since)
            row = (await connection.execute(statement, params)).one()
            usage[(scope, since, None)] = [int(value) for value in row]
    return usage


async def _read_tallies(connection: AsyncConnection, batch: Sequence[Request]) -> Tallies:
    refs = sorted({job_id for request in batch for job_id, _ in request.holds})
    held_jobs = set((await connection.execute(_held_jobs, {"refs": refs})).scalars())
    usage = await _read_usage(connection, [limit for r in batch for limit in r.limits])
    in_flight: dict[tuple[str, str], int] = {}
    recent: dict[tuple[str, str], list[datetime]] = {}
    throttled = [
        (r, r.throttle)
        for r in batch
        if r.throttle is not None and not any(j in held_jobs for j, _ in r.holds)
    ]
    for scope in sorted({r.scope for r, _ in throttled}):
        mine = [(r, throttle) for r, throttle in throttled if r.scope == scope]
        params: dict[str, object] = {"scope": scope, "users": sorted({r.user_id for r, _ in mine})}
        if any(throttle.max_open is not None for _, throttle in mine):
            for user_id, count in await connection.execute(_in_flight, params):
                in_flight[(scope, user_id)] = int(count)
        starts = [t.recent_since for _, t in mine if t.max_recent and t.recent_since is not None]
        if starts:
            params["since"] = min(starts)
            for user_id, created_at in await connection.execute(_recent, params):
                recent.setdefault((scope, user_id), []).append(created_at)
    return Tallies(usage, held_jobs, in_flight, recent)


async def _decide(connection: AsyncConnection, batch: Sequence[Request]) -> list[HoldOutcome]:
    """Decide and write the batch in the caller's transaction (which holds the locks)."""
    tallies = await _read_tallies(connection, batch)
    outcomes: list[HoldOutcome] = []
    rows: list[dict[str, object]] = []
    for request in batch:
        # Parts are written together, so one of them held means all of them were.
        if any(job_id in tallies.held_jobs for job_id, _ in request.holds):
            outcomes.append(HoldOutcome(admitted=True, replayed=True))
            continue
        refused = tallies.refusal(request)
        if refused is not None:
            outcomes.append(refused)
            continue
        tallies.add(request)
        outcomes.append(HoldOutcome(admitted=True))
        rows.extend(
            {
                "kind": EntryKind.HOLD.value,
                "scope": request.scope,
                "user_id": request.user_id,
                "ref": job_id,
                "amount": amount.nanos,
                "effective_at": request.at,
                "created_at": request.at,
                "actor": None,
                "note": None,
            }
            for job_id, amount in request.holds
        )
    if rows:
        await connection.execute(_insert, rows)
    return outcomes


async def admit_batch(engine: AsyncEngine, batch: Sequence[Request]) -> list[HoldOutcome]:
    """Decide and write a batch in one transaction; re-run when the one-hold-per-job index
    refused a job another writer held meanwhile under another scope's lock (the re-run sees
    that hold and reports the job replayed)."""
    scopes = {r.scope for r in batch} | {limit.scope for r in batch for limit in r.limits}
    for attempt in range(RETRIES):
        try:
            async with engine.begin() as connection:
                await lock_scopes(connection, scopes)
                return await _decide(connection, batch)
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


class Admissions:
    """Per-scope queues of holds, each drained by one task into batches (see the module doc)."""

    def __init__(
        self,
        engine: AsyncEngine,
        admit: Callable[[AsyncEngine, Sequence[Request]], Awaitable[list[HoldOutcome]]] = (
            admit_batch
        ),
    ) -> None:
        self._engine = engine
        self._admit = admit
        self._queues: dict[str, list[Request]] = {}
        self._drainers: dict[str, asyncio.Task[None]] = {}

    async def hold(self, request: Request) -> HoldOutcome:
        """Queue the hold and wait for its batch's outcome."""
        loop = asyncio.get_running_loop()
        drainer = self._drainers.get(request.scope)
        if drainer is not None and drainer.get_loop() is not loop:
            self._queues.pop(request.scope, None)  # left by an event loop that is gone
            drainer = None
        self._queues.setdefault(request.scope, []).append(request)
        if drainer is None or drainer.done():
            self._drainers[request.scope] = loop.create_task(self._drain(request.scope))
        return await request.future

    async def close(self) -> None:
        """Cancel every drainer and wait for it: waiting holds end cancelled, none half-run."""
        drainers = list(self._drainers.values())
        for drainer in drainers:
            drainer.cancel()
        await asyncio.gather(*drainers, return_exceptions=True)

    async def _drain(self, scope: str) -> None:
        queue = self._queues.setdefault(scope, [])
        try:
            while queue:
                # Skip holds whose caller gave up before their batch began.
                batch = [r for r in queue[:MAX_BATCH] if not r.future.done()]
                del queue[:MAX_BATCH]
                if batch:
                    await self._run(batch)
        finally:
            # Empty unless this task was cancelled (the loop is closing): nobody would answer.
            for request in queue:
                request.future.cancel()
            if self._queues.get(scope) is queue:
                del self._queues[scope]
                self._drainers.pop(scope, None)

    async def _run(self, batch: list[Request]) -> None:
        try:
            outcomes = await self._admit(self._engine, batch)
        except asyncio.CancelledError:
            for request in batch:
                request.future.cancel()
            raise
        except Exception as error:
            if len(batch) > 1:
                # One bad request (say, an amount the column cannot store) must not fail the
                # others: decide each alone, so that only its own caller sees the error.
                for request in batch:
                    await self._run([request])
                return
            if not batch[0].future.done():
                batch[0].future.set_exception(error)
            return
        for request, outcome in zip(batch, outcomes, strict=True):
            if not request.future.done():
                request.future.set_result(outcome)
