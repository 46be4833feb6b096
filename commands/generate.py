"""generate and reroll: validate, price, hold, start. Bad input is refused before any hold.

The reply waits for the cheap sheet checks only (`bot.media.sheet_files.take_in`: type, size,
header, pixel bounds, no decode); the price of an `auto` size comes from the header's aspect. The
full decode and re-encode runs inside the job, and a sheet it refuses fails the job and releases
the hold with the sanitiser's sentence.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from bot.budget.scope_policy import ScopePolicy
from bot.errors import InvalidRequest, InvalidSheet, NotAllowed
from bot.jobs.record import Job, Origin
from bot.media.saved_sheets import link_saved
from bot.media.sheet_files import share_sheet, sheet_available, take_in
from bot.model import Actor, Invocation, Place, Reply
from bot.ports import SavedSheet
from bot.pricing import Quote, quote
from bot.request import GenerationRequest
from bot.request_parsing import parse_request
from commands.channels import with_defaults
from commands.confirm import check_delivery, confirmation_reply, hold_and_start, offer_approval
from commands.context import Services
from commands.sheet import with_prefix
from commands.sheets import find_saved

SHEET_OPTIONS = ("sheet", "sheet_name")  # the sheet, not the request's options
NO_SHEET = (
    "Attach a reference sheet (PNG, JPEG or WebP): clean panels of the characters, props and "
    "location the video should keep."
)


def price(request: GenerationRequest, services: Services, aspect: float | None = None) -> Quote:
    size = request.size(aspect)
    return quote(size.width, size.height, request.num_frames, services.settings.price_per_megapixel)


async def generate(invocation: Invocation, services: Services) -> Reply:
    actor, place = invocation.actor, invocation.place
    # Read once: the channel check, its presets, the thresholds, the hold and its alerts.
    context = await services.budgets.admission_context(actor.scope_key, place.channel_id)
    context.check_channel()
    options = {k: v for k, v in invocation.options.items() if k not in SHEET_OPTIONS}
    saved = await _saved_sheet(invocation, services)
    if saved is not None and saved.prompt_prefix:  # structured as a composed sheet's prompt
        options["prompt"] = with_prefix(saved.prompt_prefix, str(options.get("prompt", "")))
    request = parse_request(with_defaults(options, context.defaults))
    check_delivery(place, request)  # before the sheet is fetched or anything recorded
    check_safety_choice(request, context.policy)
    if invocation.attachment is None and saved is None:
        raise InvalidSheet(NO_SHEET)
    job_id = services.new_id()
    sheet_path = services.sheets_dir / f"{job_id}.png"  # written by the job's sanitise
    if saved is not None:  # already clean: the job's own link to it, as a reroll's
        if not await link_saved(services.settings.data_dir, saved.sha256, sheet_path):
            raise InvalidSheet(f"The picture of saved sheet `{saved.name}` is gone; save it again.")
        aspect = saved.width / saved.height
    else:
        assert invocation.attachment is not None
        header = await take_in(
            invocation.attachment, sheet_path, max_bytes=services.settings.max_sheet_bytes
        )
        aspect = header.aspect
    request = request.with_size(request.size(aspect))
    reply = await start_job(
        job_id,
        request,
        sheet_path,
        invocation.actor,
        invocation.place,
        services,
        context.policy,
        origin_message_id=invocation.origin_message_id,
    )
    if saved is not None and saved.prompt_prefix and not reply.refused:
        reply = replace(reply, text=f"{reply.text}\nPrompt sent: {request.prompt}")
    return reply


async def _saved_sheet(invocation: Invocation, services: Services) -> SavedSheet | None:
    """The saved sheet `sheet_name` names (refused when a sheet is attached too)."""
    name = invocation.options.get("sheet_name")
    if name is None or not str(name).strip():
        return None
    if invocation.attachment is not None:
        raise InvalidRequest(["give a sheet or the name of a saved one, not both"])
    return await find_saved(invocation.actor, name, services)


def check_safety_choice(request: GenerationRequest, policy: ScopePolicy) -> None:
    """fal's safety checker stays on unless the scope's admins let members turn it off."""
    if request.enable_safety_checker:
        return
    if not policy.safety_optional:
        raise NotAllowed(
            "The safety checker cannot be turned off here. An admin can allow it with "
            "`admin limits safety_optional:true`."
        )


async def reroll(job: Job, actor: Actor, place: Place, services: Services) -> Reply:
    """The same request with a new seed, priced and held again like any other."""
    if not job.sheet_path or not await asyncio.to_thread(sheet_available, Path(job.sheet_path)):
        raise InvalidSheet(sheet_gone(job))
    # The job's own options, not the channel's presets.
    context = await services.budgets.admission_context(
        actor.scope_key, place.channel_id, presets=False
    )
    context.check_channel()
    request = job.request.model_copy(update={"seed": None})
    check_delivery(place, request)
    job_id = services.new_id()
    sheet = services.sheets_dir / f"{job_id}.png"  # its own link: retention removes per job
    if not await asyncio.to_thread(share_sheet, Path(job.sheet_path), sheet):
        raise InvalidSheet(sheet_gone(job))
    return await start_job(
        job_id,
        request,
        sheet,
        actor,
        place,
        services,
        context.policy,
        rerolled_from=job.id,
    )


def sheet_gone(job: Job) -> str:
    if job.purged_at is None:
        return "The reference sheet of that job is gone; run generate again."
    days = (job.purged_at - job.created_at).days
    after = f"{days} days after the job" if days != 1 else "a day after the job"
    return (
        f"The reference sheet of that job was removed from the bot's disk {after} (sheets and "
        "videos are kept for a limited time). To make another video, run generate again with "
        "the sheet."
    )


async def start_job(
    job_id: str,
    request: GenerationRequest,
    sheet_path: Path,
    actor: Actor,
    place: Place,
    services: Services,
    policy: ScopePolicy,
    *,
    rerolled_from: str | None = None,
    origin_message_id: str | None = None,
) -> Reply:
    """Record the job, then hold its price atomically and hand it to the runner (or, above
    the scope's approval threshold, offer to ask an admin; above its confirmation threshold,
    ask the user to confirm the price first), all by the one `policy` the command read."""
    the_quote = price(request, services)
    services.budgets.check_request_size(the_quote.cost)
    now = services.clock()
    job = Job(
        id=job_id,
        origin=Origin(
            platform=actor.platform,
            scope=actor.scope,
            channel_id=place.channel_id,
            thread_id=place.thread_id,
            user_id=actor.user_id,
            user_name=actor.display_name,
            origin_message_id=origin_message_id,
            out_path=place.out_path,
        ),
        request=request,
        quoted_megapixels=the_quote.megapixels,
        quoted_nanos=the_quote.cost.nanos,
        simulated=services.simulated,
        sheet_path=str(sheet_path),
        created_at=now,
        updated_at=now,
        rerolled_from=rerolled_from,
    )
    above = policy.approval_above
    threshold = await services.budgets.confirmation_needed(
        actor.scope_key, the_quote.cost, policy=policy
    )
    await services.jobs.insert(job)
    if above is not None and the_quote.cost > above:
        cost = the_quote.cost
        return await offer_approval(
            job,
            actor,
            services,
            policy,
            (
                f"This video costs {cost.with_exact()}, above the {above.with_exact()} that "
                "needs an admin's approval here."
            ),
        )
    if threshold is not None:
        return confirmation_reply(job, the_quote, threshold)
    return await hold_and_start(job, actor, services, policy)
