"""Approvals from chat: the requester asks, the admin channel gets Approve / Deny, one wins.

The rules (what an approved job may spend, how decisions stay atomic) are in bot.budget.approvals.
Here: the buttons' handlers and `admin approvals`. Approve holds first (idempotent per job)
and then claims the decision; a claimer that lost releases what it held unless the winner
approved, so no path leaves a hold behind and only the winner starts the job.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.budget.admission_context import mention
from bot.budget.budgets import Budgets
from bot.budget.scope_policy import ScopePolicy
from bot.errors import CapReached, NotAllowed, NotFound, UserError
from bot.jobs.record import Job, JobState
from bot.model import Actor, Button, ButtonAction, Invocation, Place, Reply
from bot.money import Money
from bot.ports import ApprovalRequest, ApprovalState
from commands.admin import not_admin, require_admin
from commands.approval_group import (
    end_unapproved,
    named,
    release_all,
    start_approved,
    what_is_asked,
)
from commands.channels import announce, tell_admins
from commands.confirm import check_delivery, hold_and_start, reject
from commands.context import Services
from commands.jobs import load_job
from commands.render import short
from commands.takes import group_holds, group_of, takes_price, total_of


def _when(moment: datetime, budgets: Budgets, tz_key: str | None = None) -> str:
    tz = ZoneInfo(tz_key) if tz_key else budgets.policy.tz
    return f"{moment.astimezone(tz):%a %d %b %H:%M} {tz.key}"


async def _reason(actor: Actor, services: Services, policy: ScopePolicy, cost: Money) -> str | None:
    """Which cap the video hits, for the admins; None when it now fits everything."""
    if policy.approval_above is not None and cost > policy.approval_above:
        return f"it costs more than the {policy.approval_above.with_exact()} approval threshold"
    statuses = await services.budgets.status(
        actor.scope_key, actor.user_id, actor.roles, policy=policy
    )
    for status in statuses:
        limit = status.limit
        if limit.user_id is not None and status.usage.used + cost > limit.limit:
            name = limit.name.replace("your ", "their ", 1)
            reset = services.budgets.describe_reset(limit)
            return f"{name}: {status.remaining.room_text()} left of {limit.limit}; it {reset}"
    return None


async def ask_approval(job_id: str, actor: Actor, place: Place, services: Services) -> Reply:
    """The requester's "Ask for approval": post the request to the admin channel."""
    job = await load_job(job_id, actor, services, acting=True)
    if job.origin.user_id != actor.user_id:
        raise NotAllowed("Only the person who asked for this video can ask for its approval.")
    if job.state is not JobState.RECEIVED:
        raise NotFound(f"Job `{job.id}` is no longer waiting ({job.state.value}).")
    check_delivery(
        place, job.request
    )  # no admin is asked to approve a video that could not be posted
    policy, now = await services.budgets.scope_policy(actor.scope_key), services.clock()
    group = await group_of(job, services.jobs)  # a request's takes are asked for together
    if now - job.created_at > policy.approval_ttl:
        for take in group:
            await reject(take, services, "approval never asked: too old")
        return Reply(text="That request is too old to ask about now; run generate again.")
    if policy.admin_channel is None:
        raise UserError("No admin channel is set here, so nobody can be asked for approval.")
    cost = total_of(group)
    reason = await _reason(actor, services, policy, cost)
    if reason is None:  # a grant or a new period made room meanwhile: no admin is needed
        return await hold_and_start(job, actor, services, policy)
    request = ApprovalRequest(
        job_id=job.id,
        scope=actor.scope_key,
        user_id=actor.user_id,
        cost=cost,
        reason=reason,
        created_at=now,
        expires_at=now + policy.approval_ttl,
        admin_channel=policy.admin_channel,
    )
    approvals = services.budgets.approvals
    if not await approvals.open(request):
        return Reply(text=f"You already asked the admins about job `{job.id}`.", job_id=job.id)
    expires = _when(request.expires_at, services.budgets, policy.tz.key)
    message_id = await announce(
        services,
        actor.platform,
        actor.scope,
        policy.admin_channel,
        request_reply(request, group, expires),
    )
    if message_id is None:
        await approvals.decide(job.id, ApprovalState.WITHDRAWN, by=None, at=now)
        for take in group:
            await reject(take, services, "approval request could not be posted")
        raise UserError(
            f"I could not post in the admin channel {mention(policy.admin_channel)} (do I have "
            "access there?); nothing was held. Tell an admin, then run generate again."
        )
    await approvals.posted(job.id, policy.admin_channel, message_id)
    return Reply(
        text=f"Asked the admins in {mention(policy.admin_channel)} to approve {cost} for "
        f"{named(group)}. You will hear here when one decides; the request expires {expires}.",
        job_id=job.id,
    )


def request_reply(request: ApprovalRequest, group: list[Job], expires: str) -> Reply:
    """The admin channel's message: who, what, the exact price (a group's total, with the
    number of takes), which cap, Approve / Deny."""
    cost, job = request.cost, group[0]
    what = what_is_asked(group, cost)
    price = cost.with_exact()
    if len(group) > 1:
        price = takes_price(len(group), Money(job.quoted_nanos))
    return Reply(
        text=f"🙋 <@{request.user_id}> asks for approval of {'a ' * (len(group) == 1)}{what}.",
        fields=(
            ("Prompt", short(job.request.prompt, 300)),
            ("Price", price),
            ("Why it needs approval", request.reason),
            ("Asked in", mention(job.origin.channel_id)),
            ("Expires", expires),
        ),
        buttons=(
            Button(ButtonAction.APPROVE, job.id, f"Approve {cost}"),
            Button(ButtonAction.DENY, job.id, "Deny", danger=True),
        ),
        ephemeral=False,
        job_id=job.id,
    )


async def _decidable(job_id: str, actor: Actor, services: Services) -> tuple[Job, ApprovalRequest]:
    if not actor.is_admin:
        raise NotAllowed(not_admin(actor, "approve or deny videos"))
    job = await load_job(job_id, actor, services, acting=False)
    request = await services.budgets.approvals.get(job.id)
    if request is None:
        raise NotFound(f"Nobody asked for approval of job `{job.id}`.")
    return job, request


async def _settled(request: ApprovalRequest, job: Job, services: Services) -> Reply:
    """The answer to a press on a request that is no longer pending (expiring it if due)."""
    now = services.clock()
    if request.expired(now):
        approvals = services.budgets.approvals
        if await approvals.decide(job.id, ApprovalState.EXPIRED, by=None, at=now):
            await end_unapproved(job.id, services, "approval request expired")
        request = await approvals.get(job.id) or request
    if request.state is ApprovalState.PENDING:  # not expired after all (clock skew): rare
        return Reply(text=f"The request for job `{job.id}` is still open; press again.")
    if request.state is ApprovalState.EXPIRED:
        when = _when(request.expires_at, services.budgets)
        return Reply(text=f"This approval request expired ({when}); nothing was held.")
    if request.state is ApprovalState.WITHDRAWN:
        return Reply(text=f"Job `{job.id}` no longer waits for approval; nothing was held.")
    return Reply(text=f"Already {request.state.value} by <@{request.decided_by}>.")


async def approve(job_id: str, actor: Actor, place: Place, services: Services) -> Reply:
    """An admin's Approve: hold against the team pool, claim the decision, start the job."""
    job, request = await _decidable(job_id, actor, services)
    approvals, now = services.budgets.approvals, services.clock()
    if request.state is not ApprovalState.PENDING or request.expired(now):
        return await _settled(request, job, services)
    if job.state is not JobState.RECEIVED:
        await approvals.decide(job.id, ApprovalState.WITHDRAWN, by=None, at=now)
        return Reply(text=f"Job `{job.id}` no longer waits for approval ({job.state.value}).")
    # Read once: the hold, its pool alerts and where they are told all go by it.
    policy = await services.budgets.scope_policy(request.scope)
    group = await group_of(job, services.jobs)  # every take held, or none
    try:
        await services.budgets.admit_approved(
            job_id=job.id,
            scope=request.scope,
            user_id=request.user_id,
            cost=request.cost,
            policy=policy,
            takes=group_holds(group),
        )
    except CapReached as refused:  # the pool: the request stays open for a grant
        return Reply(
            text=f"Not started: {refused} Grant the {actor.platform.scope_word}'s pool room "
            f"(`{actor.platform.command('admin grant', who='pool')}`) and press Approve again."
        )
    if not await approvals.decide(job.id, ApprovalState.APPROVED, by=actor.user_id, at=now):
        settled = await approvals.get(job.id) or request
        if settled.state is not ApprovalState.APPROVED:
            await release_all(group, services, "approval lost the race")
        return await _settled(settled, job, services)
    started = await start_approved(group, services, now)
    if started is None:
        await end_unapproved(job.id, services, "withdrawn before approval")
        return Reply(text=f"Job `{job.id}` changed meanwhile and was not started by this.")
    held, what = started[0], what_is_asked(group, request.cost)
    they = "they are" if len(group) > 1 else "it is"
    await _tell_requester(
        services, actor, held, f"<@{actor.user_id}> approved your {what}; {they} starting."
    )
    requester = Actor(actor.platform, actor.scope, request.user_id)
    alerts = await services.budgets.alerts(
        request.scope, request.user_id, pool_only=True, policy=policy
    )
    for alert in alerts:
        await tell_admins(services, requester, policy.admin_channel, f"⚠️ {alert.text}")
    return Reply(
        text=f"Approved: {named(group)} started; {request.cost} held for "
        f"<@{request.user_id}> past their own caps, inside the {actor.platform.scope_word}'s "
        "pool. They were "
        "told.",
        job_id=held.id,
    )


async def deny(job_id: str, actor: Actor, place: Place, services: Services) -> Reply:
    """An admin's Deny: the job will not run and the requester is told."""
    job, request = await _decidable(job_id, actor, services)
    approvals, now = services.budgets.approvals, services.clock()
    if not await approvals.decide(job.id, ApprovalState.DENIED, by=actor.user_id, at=now):
        return await _settled(await approvals.get(job.id) or request, job, services)
    await end_unapproved(job.id, services, "not approved by an admin")
    what = what_is_asked(await group_of(job, services.jobs), request.cost)
    await _tell_requester(
        services,
        actor,
        job,
        f"<@{request.user_id}>, an admin did not approve your {what}; nothing was held or charged.",
    )
    return Reply(text=f"Denied job `{job.id}`; <@{request.user_id}> was told.")


async def _tell_requester(services: Services, actor: Actor, job: Job, text: str) -> None:
    # In the channel they asked in (not a thread: a Slack thread is not a channel).
    reply = Reply(text=text, ephemeral=False, job_id=job.id)
    await announce(services, actor.platform, actor.scope, job.origin.channel_id, reply)


async def admin_approvals(invocation: Invocation, services: Services) -> Reply:
    """`admin approvals`: the requests still waiting, oldest first, with their buttons."""
    actor = invocation.actor
    require_admin(actor)
    now = services.clock()
    waiting = await services.budgets.approvals.waiting(actor.scope_key, now)
    if not waiting:
        return Reply(text="No approval requests are waiting.")
    tz = (await services.budgets.scope_policy(actor.scope_key)).tz.key
    lines = [
        f"`{r.job_id}` · <@{r.user_id}> · {r.cost} · {r.reason} · expires "
        f"{_when(r.expires_at, services.budgets, tz)}"
        for r in waiting
    ]
    buttons = tuple(
        button
        for r in waiting[:5]  # 10 buttons: within what every platform shows at once
        for button in (
            Button(ButtonAction.APPROVE, r.job_id, f"Approve {r.job_id}"),
            Button(ButtonAction.DENY, r.job_id, f"Deny {r.job_id}", danger=True),
        )
    )
    return Reply(text="Waiting for approval:\n" + "\n".join(lines), buttons=buttons)
