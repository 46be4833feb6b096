"""What one approval request covers: one video, or a request's takes asked for as one group.

The request is keyed by take 1's id and its cost is the group's exact total. Approve holds
every take or none (`Ledger.hold_many`, inside the team pool) and starts them all; Deny and
expiry reject every take and release any hold an Approve that lost the race wrote.
"""

from __future__ import annotations

from datetime import datetime

from bot.jobs.record import ACTIVE, Job, JobState
from bot.money import Money
from commands.confirm import reject, start_group
from commands.context import Services
from commands.takes import group_of


def named(group: list[Job]) -> str:
    """ "job `a`", or "3 takes (jobs `a`, `b`, `c`)"."""
    if len(group) == 1:
        return f"job `{group[0].id}`"
    return f"{len(group)} takes (jobs {', '.join(f'`{take.id}`' for take in group)})"


def what_is_asked(group: list[Job], cost: Money) -> str:
    """ "$0.40 video (job `a`)", or "3 takes, $0.30 in all (jobs `a`, `b`, `c`)"."""
    if len(group) == 1:
        return f"{cost} video (job `{group[0].id}`)"
    ids = ", ".join(f"`{take.id}`" for take in group)
    return f"{len(group)} takes, {cost} in all (jobs {ids})"


async def start_approved(group: list[Job], services: Services, now: datetime) -> list[Job] | None:
    """Every take still RECEIVED -> HELD and handed to the runner (take 1's versioned swap
    decides, as Confirm's does); None when take 1 changed meanwhile (nothing started)."""
    fresh = [await services.jobs.get(take.id) or take for take in group]
    if fresh[0].state is not JobState.RECEIVED:
        return None
    waiting = [take for take in fresh if take.state is JobState.RECEIVED]
    return await start_group(waiting, services, now)


async def release_all(group: list[Job], services: Services, note: str) -> None:
    for take in group:
        await services.ledger.release(job_id=take.id, at=services.clock(), note=note)


async def end_unapproved(job_id: str, services: Services, why: str) -> None:
    """After a deny or an expiry: reject the waiting job (every take of it) and release any
    hold an Approve that lost the race wrote for them."""
    job = await services.jobs.get(job_id)
    if job is None:
        await services.ledger.release(job_id=job_id, at=services.clock(), note=why)
        return
    for take in await group_of(job, services.jobs):
        if take.state is JobState.RECEIVED:
            await reject(take, services, why)
        fresh = await services.jobs.get(take.id)
        if fresh is None or fresh.state not in ACTIVE:
            await services.ledger.release(job_id=take.id, at=services.clock(), note=why)
