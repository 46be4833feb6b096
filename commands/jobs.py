"""history, show and cancel: the requester's view of their jobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.errors import NotAllowed, NotFound
from bot.events import Cancelled
from bot.jobs.record import ACTIVE, Job, JobState
from bot.model import Actor, Invocation, Platform, Reply
from commands.context import Services
from commands.data import job_data, usd
from commands.job_details import job_details, job_line
from commands.render import stop_asked_text


async def load_job(job_id: str, actor: Actor, services: Services, *, acting: bool) -> Job:
    """The job, if the actor may see it (same scope) or act on it (requester or admin)."""
    job = await services.jobs.get(job_id.strip().strip("`"))
    # The terminal runs beside the bot's database: its operator may look at any job.
    operator = actor.platform is Platform.CONSOLE and not acting
    elsewhere = job is not None and (
        job.origin.platform != actor.platform or job.origin.scope != actor.scope
    )
    if job is None or (elsewhere and not operator):
        raise NotFound(f"No job `{job_id}` here. `history` lists your jobs.")
    if acting and job.origin.user_id != actor.user_id and not actor.is_admin:
        raise NotAllowed("Only the person who started this job, or an admin, can do that.")
    return job


async def history(invocation: Invocation, services: Services) -> Reply:
    actor = invocation.actor
    jobs = await services.jobs.for_user(
        platform=actor.platform, scope=actor.scope, user_id=actor.user_id, limit=10
    )
    if not jobs:
        return Reply(text="You have no jobs yet. `generate` makes your first video.", data=())
    return Reply(
        text="Your recent jobs:\n" + "\n".join(job_line(job) for job in jobs),
        data=tuple(job_data(job) for job in jobs),
    )


async def show(invocation: Invocation, services: Services) -> Reply:
    job = await load_job(str(invocation.options["job"]), invocation.actor, services, acting=False)
    local = invocation.actor.platform is Platform.CONSOLE
    return replace(job_details(job, local=local), data=job_data(job))


async def cancel(invocation: Invocation, services: Services) -> Reply:
    job_id = str(invocation.options["job"])
    return await cancel_job(job_id, invocation.actor, services)


async def cancel_button(job_id: str, actor: Actor, services: Services) -> Reply:
    """The status message's Cancel. A request's takes share take 1's status message, so its
    Cancel stops every take that has not ended (`cancel JOB` still stops one)."""
    job = await load_job(job_id, actor, services, acting=True)
    if len(job.take_ids) <= 1:
        return await cancel_job(job_id, actor, services)
    takes = [await services.jobs.get(take_id) for take_id in job.take_ids]
    running = [take.id for take in takes if take is not None and take.state in ACTIVE]
    if not running:
        return Reply(text="Every take of this request has already ended.", refused=True)
    replies = [await cancel_job(take_id, actor, services) for take_id in running]
    return Reply(
        text="\n".join(reply.text for reply in replies),
        refused=all(reply.refused for reply in replies),
        data=tuple(reply.data for reply in replies if isinstance(reply.data, Mapping)),
    )


async def cancel_job(job_id: str, actor: Actor, services: Services) -> Reply:
    job = await load_job(job_id, actor, services, acting=True)
    outcome = await services.runner.cancel(job.id)
    if outcome is None:
        # fal's cancel can end the job in the process that follows it before this one
        # records it: then it is cancelled as asked, not "already ended".
        now = await services.jobs.get(job.id) or job
        if now.state is JobState.CANCELLED and not job.is_final:
            return Reply(
                text=f"Cancelled job `{job.id}`; nothing is charged for it.",
                data={"job_id": job.id, "cancelled": True, "released_usd": None},
            )
        return Reply(text=f"Job `{job.id}` has already ended ({now.state.value}).", refused=True)
    if isinstance(outcome, Cancelled):  # the hold is released by now
        return Reply(
            text=f"Cancelled job `{job.id}`; {outcome.refunded} released.",
            data={"job_id": job.id, "cancelled": True, "released_usd": usd(outcome.refunded)},
        )
    # fal is rendering it: only a stop was asked, and the money stays held until it ends.
    return Reply(
        text=f"Job `{job.id}`: {stop_asked_text(job)}",
        data={"job_id": job.id, "cancelled": False, "held_usd": usd(job.quoted_nanos)},
    )
