"""The job store and the ledger, watched: one log line per job transition, and a `JobObserver`
told of every transition and every money entry written.

The composition root wraps storage's stores in these before anything uses them, so each
transition is seen wherever it is made (the runner, a confirm, an approval) without every call
site remembering to tell someone. A transition is a stored state that differs from the state
of the version it replaced: the store keeps no history, so the wrapper remembers the newest
(version, state) it has seen of each job. Every write is built from a job read through the
same wrapper, so the version a `replace` follows has been seen (the memory is bounded; a job
forgotten meanwhile counts as new, and its log line says so).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from bot.jobs.record import Job, JobState
from bot.model import Platform
from bot.money import Money
from bot.ports import (
    Entry,
    EntryKind,
    Forgetting,
    Forgotten,
    HoldOutcome,
    JobObserver,
    JobSignals,
    JobStore,
    Ledger,
    Limit,
    Throttle,
    Usage,
)

log = logging.getLogger("bot.jobs.transitions")
REMEMBERED_JOBS = 10_000  # far more than are ever in flight at once


class ObservedJobs:
    """A `JobStore` that logs and reports each state change it stores."""

    def __init__(self, inner: JobStore, observer: JobObserver | None = None) -> None:
        self.inner, self.observer = inner, observer
        self._seen: OrderedDict[str, tuple[int, JobState]] = OrderedDict()

    def _remember(self, job: Job | None) -> Job | None:
        if job is not None:
            known = self._seen.get(job.id)
            if known is None or known[0] <= job.version:
                self._seen[job.id] = (job.version, job.state)
                self._seen.move_to_end(job.id)
                if len(self._seen) > REMEMBERED_JOBS:
                    self._seen.popitem(last=False)
        return job

    def _all(self, jobs: Iterable[Job]) -> None:
        for job in jobs:
            self._remember(job)

    def _changed(self, job: Job, before: JobState | None) -> None:
        if before is job.state:
            return
        quoted = Money(job.quoted_nanos)
        charged = None if job.captured_nanos is None else Money(job.captured_nanos)
        log.info(
            "job %s: %s -> %s (quoted %s%s)",
            job.id,
            before.value if before is not None else "new",
            job.state.value,
            quoted.exact_text(),
            "" if charged is None else f", charged {charged.exact_text()}",
            extra={
                "job_id": job.id,
                "state": job.state.value,
                "from_state": before.value if before is not None else None,
                "quoted_usd": quoted.exact_str(),
                "charged_usd": None if charged is None else charged.exact_str(),
            },
        )
        if self.observer is not None:
            try:
                self.observer.job_changed(job, before)
            except Exception:  # metrics must never cost a job
                log.exception("job %s: the observer failed", job.id)

    async def insert(self, job: Job) -> None:
        await self.inner.insert(job)
        self._remember(job)
        self._changed(job, None)

    async def replace(self, job: Job, *, wake: JobSignals | None = None) -> bool:
        known = self._seen.get(job.id)
        stored = await self.inner.replace(job, wake=wake)
        if stored:
            before = known[1] if known is not None and known[0] == job.version - 1 else None
            self._remember(job)
            self._changed(job, before)
        return stored

    async def get(self, job_id: str) -> Job | None:
        return self._remember(await self.inner.get(job_id))

    async def in_states(self, states: Iterable[JobState]) -> list[Job]:
        found = await self.inner.in_states(states)
        self._all(found)
        return found

    async def for_user(
        self, *, platform: Platform, scope: str, user_id: str, limit: int = 10
    ) -> list[Job]:
        found = await self.inner.for_user(
            platform=platform, scope=scope, user_id=user_id, limit=limit
        )
        self._all(found)
        return found

    async def by_fal_request_id(self, request_id: str) -> Job | None:
        return self._remember(await self.inner.by_fal_request_id(request_id))

    async def ended_unpurged(
        self,
        *,
        before: datetime,
        platform: Platform | None = None,
        scope: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        found = await self.inner.ended_unpurged(
            before=before, platform=platform, scope=scope, limit=limit
        )
        self._all(found)
        return found

    async def by_fal_request_ids(self, request_ids: Collection[str]) -> dict[str, Job]:
        found = await self.inner.by_fal_request_ids(request_ids)
        self._all(found.values())
        return found

    async def many(self, job_ids: Collection[str]) -> dict[str, Job]:
        found = await self.inner.many(job_ids)
        self._all(found.values())
        return found

    async def forget_user(self, forgetting: Forgetting) -> Forgotten:
        # Only ids, versions and states are remembered here: nothing of the user to forget.
        return await self.inner.forget_user(forgetting)


class ObservedLedger:
    """A `Ledger` that reports each hold, capture and release it writes. A release names no
    amount, so the job's hold (its quoted price) is read back from the job store."""

    def __init__(self, inner: Ledger, jobs: JobStore, observer: JobObserver) -> None:
        self.inner, self.jobs, self.observer = inner, jobs, observer

    def _moved(self, kind: EntryKind, amount: Money) -> None:
        try:
            self.observer.money_moved(kind, amount)
        except Exception:
            log.exception("the observer failed on a %s", kind.value)

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
        outcome = await self.inner.hold(
            job_id=job_id,
            scope=scope,
            user_id=user_id,
            amount=amount,
            limits=limits,
            at=at,
            throttle=throttle,
        )
        if outcome.admitted and not outcome.replayed:
            self._moved(EntryKind.HOLD, amount)
        return outcome

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
        outcome = await self.inner.hold_many(
            holds=holds, scope=scope, user_id=user_id, limits=limits, at=at, throttle=throttle
        )
        if outcome.admitted and not outcome.replayed:
            for _, amount in holds:
                self._moved(EntryKind.HOLD, amount)
        return outcome

    async def capture(self, *, job_id: str, amount: Money, at: datetime) -> bool:
        closed = await self.inner.capture(job_id=job_id, amount=amount, at=at)
        if closed:
            self._moved(EntryKind.CAPTURE, amount)
        return closed

    async def release(self, *, job_id: str, at: datetime, note: str | None = None) -> bool:
        closed = await self.inner.release(job_id=job_id, at=at, note=note)
        if closed:
            job = await self.jobs.get(job_id)
            self._moved(EntryKind.RELEASE, Money(job.quoted_nanos if job else 0))
        return closed

    # --- the rest, as they are ------------------------------------------------------------

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
        return await self.inner.grant(
            scope=scope, user_id=user_id, amount=amount, at=at, actor=actor, note=note
        )

    async def usage(self, *, scope: str, user_id: str | None, since: datetime | None) -> Usage:
        return await self.inner.usage(scope=scope, user_id=user_id, since=since)

    async def usages(
        self, *, scope: str, windows: Sequence[tuple[str | None, datetime | None]]
    ) -> list[Usage]:
        return await self.inner.usages(scope=scope, windows=windows)

    async def entries(
        self,
        *,
        scope: str,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]:
        return await self.inner.entries(scope=scope, user_id=user_id, since=since, until=until)

    async def open_holds(self) -> list[str]:
        return await self.inner.open_holds()
