"""`JobStore`: where job records are kept (storage implements it)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Protocol

from bot.jobs.record import Job, JobState
from bot.model import Platform


class JobStore(Protocol):
    async def insert(self, job: Job) -> None: ...

    async def get(self, job_id: str) -> Job | None: ...

    async def replace(self, job: Job) -> bool:
        """Store `job` only if the stored version is `job.version - 1` (optimistic lock)."""
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
