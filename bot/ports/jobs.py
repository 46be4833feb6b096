"""`JobStore`: where job records are kept (storage implements it)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.jobs.record import Job, JobState
from bot.model import Platform
from bot.ports.signals import JobSignals


@dataclass(frozen=True, slots=True)
class Forgetting:
    """Who is forgotten, as what, and the audit entry that goes into the same transaction."""

    platform: Platform
    scope: str  # the platform's scope id (the job records')
    team: str  # the ledger's and the policy's scope key ("discord:<guild>")
    user_id: str
    pseudonym: str
    by: str  # the admin, for the audit entry
    detail: str  # the audit entry's text (never the forgotten id)
    at: datetime
    scrub: Callable[[Job], Job]  # the job record as it stays (prompts blanked, user renamed)


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What `forget_user` did: the jobs as they were before, or the unfinished ones it refused
    for (then nothing changed), and how many other rows now carry the pseudonym."""

    jobs: tuple[Job, ...] = ()
    unfinished: tuple[str, ...] = ()
    renamed: int = 0


class JobStore(Protocol):
    async def insert(self, job: Job) -> None: ...

    async def get(self, job_id: str) -> Job | None: ...

    async def replace(self, job: Job, *, wake: JobSignals | None = None) -> bool:
        """Store `job` only if the stored version is `job.version - 1` (optimistic lock).

        `wake`: the write is news for the job's driver, wherever it runs: signal it on these
        `JobSignals`, with the write and only when it was stored. A store that can puts the
        signal in the write's transaction (PostgreSQL's NOTIFY is delivered at commit, so no
        listener wakes before the row is visible, and a crash between the two cannot lose
        the wake); any other store signals right after the stored write."""
        ...

    async def in_states(self, states: Iterable[JobState]) -> list[Job]: ...

    async def for_user(
        self, *, platform: Platform, scope: str, user_id: str, limit: int = 10
    ) -> list[Job]:
        """Newest first."""
        ...

    async def by_fal_request_id(self, request_id: str) -> Job | None: ...

    async def ended_unpurged(
        self,
        *,
        before: datetime,
        platform: Platform | None = None,
        scope: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """Ended jobs last changed before `before` whose files are still on disk, oldest
        first; only one platform's scope when both are given."""
        ...

    async def by_fal_request_ids(self, request_ids: Collection[str]) -> dict[str, Job]:
        """The job of each request id fal knows (the newest per id), read in one query."""
        ...

    async def many(self, job_ids: Collection[str]) -> dict[str, Job]:
        """The stored jobs among `job_ids`, by id, read in one query."""
        ...

    async def forget_user(self, forgetting: Forgetting) -> Forgotten:
        """In one transaction: every job record of the user scrubbed, and the user id replaced
        by the pseudonym in the ledger, approvals, caps, alert marks and the audit log; nothing
        at all when one of the user's jobs has not ended (`Forgotten.unfinished`)."""
        ...
