"""This replica's leases on the jobs it drives (`bot.ports.JobLeases`): never two drivers.

A job is claimed before it is driven; while it is, the keeper renews every lease this replica
holds every third of the lease, in one statement. A renewal that comes back without a job
means another replica took it over (the lease had run out): its driving stops at once. A
renewal that fails (the database unreachable) keeps the driving going only while the lease
certainly holds: the database started each lease no earlier than the claim or renewal that
set it was sent, so once two thirds of a lease have passed on this replica's own monotonic
clock since then, the job is let go before any other replica could claim it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection

from bot.ports import JobLeases

log = logging.getLogger(__name__)
RENEWALS_PER_LEASE = 3
LET_GO_AFTER = 2 / 3  # of a lease without a renewal that reached the database


class Ownership:
    """Claims, renews, releases and hands back one owner's job leases; `on_lost(job_id)` is
    called (synchronously) for each job whose lease this replica can no longer count on, and
    `driving()` (default: every job claimed) names the jobs still driven here."""

    def __init__(
        self,
        leases: JobLeases,
        *,
        owner: str,
        seconds: float,
        on_lost: Callable[[str], None],
        driving: Callable[[], Collection[str]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.leases, self.owner, self.seconds = leases, owner, seconds
        self._on_lost, self._driving = on_lost, driving
        self._monotonic = monotonic
        self._confirmed: dict[str, float] = {}  # job id -> when the last claim/renewal was sent
        self._keeper: asyncio.Task[None] | None = None
        self._claiming, self._closed = True, False

    @property
    def held(self) -> frozenset[str]:
        """The jobs this replica holds a lease on (as far as it knows)."""
        return frozenset(self._confirmed)

    async def claim(self, job_id: str) -> bool:
        """Take the job's lease; False when another replica holds a live one."""
        return job_id in await self.claim_many([job_id])

    async def claim_many(self, job_ids: Collection[str]) -> set[str]:
        """Take the leases of these jobs that nobody else holds; the ids won."""
        if not self._claiming or not job_ids:
            return set()
        sent = self._monotonic()
        won = await self.leases.claim_many(job_ids=job_ids, owner=self.owner, seconds=self.seconds)
        for job_id in won:
            self._confirmed[job_id] = sent
        if won:
            self._start_keeping()
        return won

    async def release(self, job_id: str) -> None:
        """The job's driving ended here; a failure to say so only leaves the lease to run out."""
        self._confirmed.pop(job_id, None)
        try:
            await self.leases.release(job_id=job_id, owner=self.owner)
        except Exception:
            log.warning("job %s: could not release its lease; it runs out by itself", job_id)

    async def renew(self) -> None:
        """Renew every lease held on a job still driven here (a driver that ended without
        releasing leaves its lease to run out); let go of the jobs whose lease is gone or may
        be."""
        if self._driving is not None:
            for job_id in set(self._confirmed) - set(self._driving()):
                del self._confirmed[job_id]
        held = set(self._confirmed)
        if not held:
            return
        sent = self._monotonic()
        try:
            async with asyncio.timeout(self.seconds / RENEWALS_PER_LEASE):
                kept = await self.leases.renew(owner=self.owner, job_ids=held, seconds=self.seconds)
        except Exception as problem:  # unreachable or slow: count on what certainly holds
            log.warning("could not renew %d job leases (%s)", len(held), type(problem).__name__)
            limit = self.seconds * LET_GO_AFTER
            self._let_go(
                {j for j in held if sent - self._confirmed.get(j, sent) >= limit},
                "its lease may run out before the database answers again",
            )
            return
        for job_id in kept & set(self._confirmed):
            self._confirmed[job_id] = sent
        self._let_go(held - kept, "another replica took it over after its lease ran out")

    def stop_claiming(self) -> None:
        """From now on every claim is refused (the replica is stopping)."""
        self._claiming = False

    async def close(self, *, hand_back: bool = True) -> None:
        """Stop renewing; with `hand_back`, end this owner's leases now so that another
        replica takes the jobs over at its next look. Only the first call acts."""
        if self._closed:
            return
        self._claiming, self._closed = False, True
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        self._confirmed.clear()
        if not hand_back:
            return
        try:
            handed = await self.leases.hand_back(owner=self.owner)
        except Exception:
            log.warning("could not hand back the job leases; they run out by themselves")
            return
        if handed:
            log.info("handed back %d job leases", handed)

    def _let_go(self, job_ids: set[str], why: str) -> None:
        for job_id in sorted(job_ids):
            if self._confirmed.pop(job_id, None) is not None:
                log.warning("job %s: stopped driving it here: %s", job_id, why)
                self._on_lost(job_id)

    def _start_keeping(self) -> None:
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(
                self._keep(), name="ltxbot-lease-keeper"
            )

    async def _keep(self) -> None:
        while self._confirmed:
            await asyncio.sleep(self.seconds / RENEWALS_PER_LEASE)  # a schedule, not a wait
            await self.renew()
