"""Holding and starting a recorded job, and the price confirmation that may come first.

Above a scope's confirmation threshold, generate records the job without holding anything and
answers with Confirm / Abort buttons showing the exact price. Confirm holds and starts it (the
caps are checked then, not when it was asked); Abort, or a confirmation older than
`CONFIRM_TTL`, rejects it. Every state lives in the job record, so buttons work after restarts,
and two presses at once start the job once (the hold is per job, the record swap is versioned).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.budget.scope_policy import ScopePolicy
from bot.errors import BudgetExceeded, CannotDeliver, CapReached, NotFound
from bot.jobs.record import Job, JobState
from bot.model import Actor, Button, ButtonAction, Place, Platform, Reply
from bot.money import Money
from bot.ports import ApprovalState
from bot.pricing import Quote
from bot.request import GenerationRequest
from commands.channels import tell_admins
from commands.context import Services
from commands.data import quote_data, usd
from commands.jobs import load_job
from commands.render import SIMULATED_NOTE, price_line
from commands.takes import group_holds, group_of, takes_price, total_of

CONFIRM_TTL = timedelta(minutes=10)


def confirmation_reply(job: Job, quote: Quote, threshold: Money) -> Reply:
    """Ask the requester to confirm the exact price before anything is held."""
    minutes = int(CONFIRM_TTL.total_seconds() // 60)
    return Reply(
        text=(
            f"This video costs {quote.cost.with_exact()}, above the {threshold.with_exact()} "
            f"that needs a confirmation here. Confirm within {minutes} min to hold it and start; "
            "nothing is held until then."
        ),
        fields=(("Price", price_line(quote)),),
        buttons=(
            Button(ButtonAction.CONFIRM, job.id, f"Confirm {quote.cost}"),
            Button(ButtonAction.ABORT, job.id, "Abort", danger=True),
        ),
        job_id=job.id,
    )


def _where_they_go(takes: list[Job]) -> str:
    if takes[0].origin.platform is not Platform.CONSOLE:
        return "the videos will be posted here, each numbered with its seed"
    files = ", ".join(str(take.origin.out_path) for take in takes if take.origin.out_path)
    return f"the videos will be saved to {files}" if files else "the videos will be saved"


def _where_it_goes(job: Job) -> str:
    if job.origin.platform is not Platform.CONSOLE:
        return "the video will be posted here"
    if job.origin.out_path:
        return f"the video will be saved to {job.origin.out_path}"
    return "the video will be saved to a file"


def check_delivery(place: Place, request: GenerationRequest) -> None:
    """Refuse before any hold when the adapter says this result could not be posted here:
    nobody pays for a video that cannot reach them. Every path that holds from a requester's
    place calls it first."""
    problem = place.attach_problem if request.sync_mode else place.delivery_problem
    if problem is not None:
        raise CannotDeliver(problem)


async def hold_and_start(job: Job, actor: Actor, services: Services, policy: ScopePolicy) -> Reply:
    """Hold the job's quoted price against every cap, hand it to the runner, tell the user
    (with any once-a-period alert the hold triggered). A refusal rejects the job and raises.
    `policy`: the scope's as this command read it (the hold, its alerts and refusal go by it)."""
    group = await group_of(job, services.jobs)  # its takes, all held or none
    cost = total_of(group)
    try:
        await services.budgets.admit(
            job_id=job.id,
            scope=actor.scope_key,
            user_id=actor.user_id,
            cost=cost,
            roles=actor.roles,
            policy=policy,
            takes=group_holds(group),
        )
    except BudgetExceeded as refused:
        # Past a personal cap an admin may let it (its takes) through; past the pool nobody.
        personal = isinstance(refused, CapReached) and refused.limit.user_id is not None
        if personal:
            return await offer_approval(job, actor, services, policy, str(refused))
        for take in group:
            await reject(take, services, str(refused))
        raise
    started = await start_group(group, services, services.clock())
    if started is None:
        # Another press of Confirm got here first and started it; the hold is the same one.
        return Reply(text=f"Job `{job.id}` has already started.", job_id=job.id)
    held = started[0]
    if len(group) > 1:
        ids = ", ".join(f"`{take.id}`" for take in group)
        each = Money(job.quoted_nanos)
        text = f"Held {takes_price(len(group), each)} for takes {ids}; {_where_they_go(started)}."
    else:
        text = f"Held {cost} for job `{job.id}`; {_where_it_goes(job)}."
    if services.simulated and job.origin.platform is not Platform.CONSOLE:
        text += f"\n{SIMULATED_NOTE}"  # the terminal says it once per command itself
    alerts = await services.budgets.alerts(
        actor.scope_key, actor.user_id, actor.roles, policy=policy
    )
    for alert in alerts:
        text += f"\n⚠️ {alert.text}"
        if alert.is_pool:
            await tell_admins(services, actor, policy.admin_channel, f"⚠️ {alert.text}")
    size = held.request.size()  # a held request's size is always explicit
    quote = Quote(
        size.width,
        size.height,
        held.request.num_frames,
        held.quoted_megapixels,
        services.settings.price_per_megapixel,
        Money(held.quoted_nanos),  # one take's: the total is the line below
    )
    data = {
        "job_id": held.id,
        "state": held.state.value,
        "held_usd": usd(cost),
        **quote_data(quote),
    }
    line = price_line(quote)
    if len(group) > 1:
        data["takes"] = [
            {"take": k, "job_id": take.id, "seed": take.request.seed}
            for k, take in enumerate(started, 1)
        ]
        line = f"{takes_price(len(group), Money(job.quoted_nanos))} ({line} each)"
    return Reply(text=text, fields=(("Price", line),), job_id=held.id, data=data)


async def start_group(group: list[Job], services: Services, now: datetime) -> list[Job] | None:
    """The held job (every take of it) HELD and handed to the runner; the first take's
    versioned swap decides, so of racing presses one starts them. None: another did."""
    started = [take.advance(JobState.HELD, now, held_at=now) for take in group]
    if not await services.jobs.replace(started[0]):
        return None
    for take in started[1:]:
        await services.jobs.replace(take)  # the first take's swap decided: only we start them
    for take in started:
        await services.runner.start(take)
    return started


async def reject(job: Job, services: Services, why: str) -> None:
    """The job will not run (nothing is held for it)."""
    await services.jobs.replace(job.advance(JobState.REJECTED, services.clock(), failure=why))


async def offer_approval(
    job: Job, actor: Actor, services: Services, policy: ScopePolicy, why: str
) -> Reply:
    """The refusal, with an "Ask for approval" button when the scope has an admin channel;
    the job (with its takes: one request for the group) waits, nothing held. Without one
    the job and its takes are rejected and the refusal raised."""
    if policy.admin_channel is None:
        for take in await group_of(job, services.jobs):
            await reject(take, services, why)
        raise BudgetExceeded(why)
    it = "them" if job.take_ids else "it"
    return Reply(
        text=f"{why}\nAn admin can let {it} through: press “Ask for approval” to ask them. "
        "Nothing is held until one approves.",
        buttons=(
            Button(ButtonAction.REQUEST_APPROVAL, job.id, "Ask for approval"),
            Button(ButtonAction.ABORT, job.id, "Abort", danger=True),
        ),
        job_id=job.id,
    )


async def confirm_job(job_id: str, actor: Actor, place: Place, services: Services) -> Reply:
    """The Confirm button: hold and start a job that waits for its price confirmation."""
    job = await _waiting(job_id, actor, services)
    check_delivery(
        place, job.request
    )  # the job keeps waiting: Confirm works again once it is granted
    if services.clock() - job.created_at > CONFIRM_TTL:
        for take in await group_of(job, services.jobs):
            await reject(take, services, "confirmation expired")
        return Reply(text="That price confirmation expired; run generate again.", refused=True)
    policy = await services.budgets.scope_policy(actor.scope_key)
    return await hold_and_start(job, actor, services, policy)


async def abort_job(job_id: str, actor: Actor, services: Services) -> Reply:
    """The Abort button: the job is rejected; nothing was ever held."""
    job = await _waiting(job_id, actor, services)
    for take in await group_of(job, services.jobs):
        await reject(take, services, "not confirmed: aborted")
    # An approval asked for it has nothing left to approve.
    await services.budgets.approvals.decide(
        job.id, ApprovalState.WITHDRAWN, by=actor.user_id, at=services.clock()
    )
    return Reply(text=f"Aborted job `{job.id}`; nothing was held.")


async def _waiting(job_id: str, actor: Actor, services: Services) -> Job:
    job = await load_job(job_id, actor, services, acting=True)
    if job.origin.user_id != actor.user_id:
        raise NotFound("Only the person who asked for this video can do that.")
    if job.state is not JobState.RECEIVED:
        raise NotFound(f"Job `{job.id}` is no longer waiting for a confirmation ({job.state}).")
    return job
