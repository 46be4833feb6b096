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

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import EntryKind, HoldOutcome
from storage import balances
from storage.admission_tallies import Request, Tallies, UsageKey
from storage.tables import EPOCH, POOL_SUBJECT

__all__ = ["Admissions", "Request", "admit_batch"]
from storage.usage import HOLD, entry, lock_scopes

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
_recent = select(entry.c.user_id, entry.c.created_at).where(
    *_mine, entry.c.created_at > bindparam("since", type_=entry.c.created_at.type)
)
_insert = entry.insert()


async def _read_balances(
    connection: AsyncConnection, batch: Sequence[Request], max_open: set[tuple[str, str]]
) -> tuple[dict[UsageKey, list[int]], dict[tuple[str, str], int]]:
    """Every limit's spent, held and granted, and the open holds of the users in `max_open`,
    from the running balances: one indexed read per scope (storage.balances)."""
    wanted: dict[str, set[balances.BalanceKey]] = defaultdict(set)
    for limit in (limit for request in batch for limit in request.limits):
        wanted[limit.scope].add(
            (balances.subject_of(limit.user_id), balances.start_of(limit.since))
        )
    for scope, user_id in max_open:
        wanted[scope].add((user_id, EPOCH))
    usage: dict[UsageKey, list[int]] = {}
    in_flight: dict[tuple[str, str], int] = {}
    for scope in sorted(wanted):
        found = await balances.read(connection, scope, wanted[scope])
        for (subject, start), sums in found.items():
            user = None if subject == POOL_SUBJECT else subject
            usage[(scope, None if start == EPOCH else start, user)] = sums[:3]
            if user is not None and (scope, user) in max_open:
                in_flight[(scope, user)] = sums[3]
    return usage, in_flight


async def _read_tallies(connection: AsyncConnection, batch: Sequence[Request]) -> Tallies:
    refs = sorted({job_id for request in batch for job_id, _ in request.holds})
    held_jobs = set((await connection.execute(_held_jobs, {"refs": refs})).scalars())
    recent: dict[tuple[str, str], list[datetime]] = {}
    throttled = [
        (r, r.throttle)
        for r in batch
        if r.throttle is not None and not any(j in held_jobs for j, _ in r.holds)
    ]
    max_open = {(r.scope, r.user_id) for r, t in throttled if t.max_open is not None}
    usage, in_flight = await _read_balances(connection, batch, max_open)
    for scope in sorted({r.scope for r, _ in throttled}):
        mine = [(r, throttle) for r, throttle in throttled if r.scope == scope]
        params: dict[str, object] = {"scope": scope, "users": sorted({r.user_id for r, _ in mine})}
        starts = [t.recent_since for _, t in mine if t.max_recent and t.recent_since is not None]
        if starts:
            params["since"] = min(starts)
            for user_id, created_at in await connection.execute(_recent, params):
                recent.setdefault((scope, user_id), []).append(created_at)
    return Tallies(usage, held_jobs, in_flight, recent)


def _held(row: dict[str, object]) -> balances.Change:
    """A hold row written, as the balances count it."""
    amount, at = row["amount"], row["effective_at"]
    assert isinstance(amount, int) and isinstance(at, datetime)
    return balances.Change(str(row["scope"]), str(row["user_id"]), at, held=amount, open_holds=1)


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
        await balances.apply(connection, (_held(row) for row in rows))
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
