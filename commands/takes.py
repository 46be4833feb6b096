"""Takes: N videos of one request, each with its own seed, job and hold, held all or nothing.

Each take is a Job of its own (submitted, followed, captured or released by the lifecycle like
any job); every take's record names the whole group (`Job.take_ids`), so a button pressed on
any of them finds the others, after restarts too. The seeds are chosen before anything is
sent (the user's seed, then seed+1, ...; else distinct random ones), so each take's number and
seed are known from the start. The price shown is the exact total, the thresholds apply to it,
and `Budgets.admit(takes=...)` writes every take's hold in one transaction or none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from bot.errors import InvalidSheet
from bot.jobs.record import Job
from bot.media.sheet_files import share_sheet
from bot.model import Button, ButtonAction, Reply
from bot.money import Money
from bot.ports import JobStore
from bot.pricing import Quote
from bot.request import MAX_SEED
from commands.render import price_line


def take_seeds(seed: int | None, takes: int, new_seed: Callable[[], int]) -> list[int]:
    """The user's seed and the next ones (wrapping past the model's largest), else distinct
    random seeds."""
    if seed is not None:
        return [(seed + k) % (MAX_SEED + 1) for k in range(takes)]
    seeds: list[int] = []
    while len(seeds) < takes:
        candidate = new_seed()
        if candidate not in seeds:
            seeds.append(candidate)
    return seeds


def take_out_path(out_path: str | None, take: int) -> str | None:
    """The terminal's file for take K: `out.mp4` -> `out-K.mp4`."""
    if out_path is None:
        return None
    path = Path(out_path)
    return str(path.with_name(f"{path.stem}-{take}{path.suffix or '.mp4'}"))


async def link_sheets(first: Path, others: list[Path]) -> None:
    """Each take its own link to the one sanitised sheet (retention removes per job)."""
    for path in others:
        if not await asyncio.to_thread(share_sheet, first, path):
            raise InvalidSheet("The reference sheet could not be shared between the takes.")


def takes_price(takes: int, each: Money) -> str:
    """ "4 takes x $0.101115 = $0.40446": the exact total, as every take costs the same."""
    return f"{takes} takes x {each.exact_text()} = {(each * takes).exact_text()}"


async def group_of(job: Job, jobs: JobStore) -> list[Job]:
    """Every take of `job`'s request in take order (just `job` when it is no take)."""
    if not job.take_ids:
        return [job]
    found = await asyncio.gather(*(jobs.get(job_id) for job_id in job.take_ids))
    return [take for take in found if take is not None]


def total_of(group: list[Job]) -> Money:
    """What a request's takes (or its one video) cost together."""
    return Money(sum(take.quoted_nanos for take in group))


def group_holds(group: list[Job]) -> list[tuple[str, Money]]:
    """The holds `Budgets.admit(takes=...)` writes: one per take, none for one video (its own)."""
    return [(take.id, Money(take.quoted_nanos)) for take in group] if len(group) > 1 else []


def confirm_takes_reply(first: Job, each: Quote, takes: int, threshold: Money) -> Reply:
    """Confirm / Abort for the whole group (on the first take's id): nothing held until then."""
    total = each.cost * takes
    return Reply(
        text=(
            f"These {takes} takes cost {total.with_exact()}, above the "
            f"{threshold.with_exact()} that needs a confirmation here. Confirm within 10 min to "
            "hold them and start; nothing is held until then."
        ),
        fields=(("Price", f"{takes_price(takes, each.cost)} ({price_line(each)} each)"),),
        buttons=(
            Button(ButtonAction.CONFIRM, first.id, f"Confirm {total}"),
            Button(ButtonAction.ABORT, first.id, "Abort", danger=True),
        ),
        job_id=first.id,
    )


def approval_why(takes: int, total: Money, above: Money) -> str:
    """Why the takes wait for an admin: the words of one video's, for the group's total."""
    return (
        f"These {takes} takes cost {total.with_exact()}, above the {above.with_exact()} that "
        "needs an admin's approval here."
    )
