"""history, show and cancel: the requester's view of their jobs."""

from __future__ import annotations

from bot.errors import NotAllowed, NotFound
from bot.events import Cancelled
from bot.jobs.record import Job
from bot.model import Actor, Invocation, Platform, Reply
from commands.context import Services
from commands.render import job_details, job_line, stop_asked_text


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
        return Reply(text="You have no jobs yet. `generate` makes your first video.")
    return Reply(text="Your recent jobs:\n" + "\n".join(job_line(job) for job in jobs))


async def show(invocation: Invocation, services: Services) -> Reply:
    job = await load_job(str(invocation.options["job"]), invocation.actor, services, acting=False)
    return job_details(job, local=invocation.actor.platform is Platform.CONSOLE)


async def cancel(invocation: Invocation, services: Services) -> Reply:
    job_id = str(invocation.options["job"])
    return await cancel_job(job_id, invocation.actor, services)


async def cancel_job(job_id: str, actor: Actor, services: Services) -> Reply:
    job = await load_job(job_id, actor, services, acting=True)
    outcome = await services.runner.cancel(job.id)
    if outcome is None:
        return Reply(text=f"Job `{job.id}` has already ended ({job.state.value}).")
    if isinstance(outcome, Cancelled):  # the hold is released by now
        return Reply(text=f"Cancelled job `{job.id}`; {outcome.refunded} released.")
    # fal is rendering it: only a stop was asked, and the money stays held until it ends.
    return Reply(text=f"Job `{job.id}`: {stop_asked_text(job)}")
