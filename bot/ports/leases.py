"""`JobLeases`: which replica drives which job, for how long (storage implements it).

A lease is a row per job: its owner (a replica id) and when it runs out, by the database's
clock (never a replica's: their clocks may disagree). A replica drives only the jobs it holds a
lease on and renews them while it works; when it dies, the leases run out and another replica
claims them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from bot.model import Platform


class JobLeases(Protocol):
    async def claim(self, *, job_id: str, owner: str, seconds: float) -> bool:
        """Take the job's lease for `seconds` if nobody holds a live one (or `owner` does):
        True for exactly one of any number of racing replicas."""
        ...

    async def claim_many(self, *, job_ids: Collection[str], owner: str, seconds: float) -> set[str]:
        """`claim` for many jobs in few statements (a takeover pass): the ids won."""
        ...

    async def renew(self, *, owner: str, job_ids: Collection[str], seconds: float) -> set[str]:
        """Extend `owner`'s leases on these jobs by `seconds` from now; the ids still held
        (the others were taken over after running out: stop driving them)."""
        ...

    async def release(self, *, job_id: str, owner: str) -> None:
        """The job's driving ended here: forget the lease (if still `owner`'s)."""
        ...

    async def hand_back(self, *, owner: str) -> int:
        """Graceful stop: end every lease of `owner` now, so another replica takes those jobs
        over at its next look instead of after the lease; returns how many."""
        ...

    async def lapsed(
        self,
        *,
        platforms: Collection[Platform],
        limit: int,
        undelivered: bool = False,
        unclaimed_before: datetime | None = None,
        owner: str | None = None,
    ) -> list[str]:
        """Jobs of these platforms that need a driver and have no live lease, oldest first:
        held or at fal, and succeeded ones whose driver's lease ran out (it died delivering).
        With `undelivered`, also succeeded jobs nobody claimed since their delivery was put
        off (a replica's start picks those up; otherwise the sweep does, at its pace). With
        `unclaimed_before`, a job never claimed counts only if last changed before then (one
        just held is about to be claimed by the replica that held it). With `owner`, also the
        jobs whose live lease is that owner's (a replica restarted under a fixed
        LTXBOT_REPLICA_ID takes its own jobs back at once)."""
        ...

    async def driven_elsewhere(
        self, *, owner: str, platforms: Collection[Platform]
    ) -> dict[str, float]:
        """Unfinished jobs of these platforms that another owner holds a live lease on: the
        seconds left on each lease."""
        ...

    async def forget_ended(self) -> int:
        """Delete the leases that ran out on jobs that have ended (a driver stopped between
        the job's last write and its release); returns how many."""
        ...
