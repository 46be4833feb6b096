"""generate and reroll (and the start of a final): validate, price, hold, start. Bad input is
refused before any hold. A draft renders at the draft size and records its final's price; the
prompt sent is built by `commands.creative` (a composed sheet's sentence first).

The reply waits for the cheap sheet checks only (`bot.media.sheet_files.take_in`: type, size,
header, pixel bounds, no decode); the price of an `auto` size comes from the header's aspect. The
full decode and re-encode runs inside the job, and a sheet it refuses fails the job and releases
the hold with the sanitiser's sentence.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.budget.scope_policy import ScopePolicy
from bot.errors import InvalidRequest, InvalidSheet, NotAllowed
from bot.jobs.record import Job, Origin
from bot.media.saved_sheets import link_saved
from bot.media.sheet_files import share_sheet, sheet_available, take_in
from bot.model import Actor, Invocation, Place, Platform, Reply
from bot.ports import SavedSheet
from bot.pricing import Quote, quote
from bot.request import GenerationRequest
from bot.request_parsing import parse_request
from commands.channels import with_defaults
from commands.chat_sheet import with_composed
from commands.confirm import (
    check_delivery,
    confirmation_reply,
    hold_and_start,
    offer_approval,
)
from commands.context import Services
from commands.creative import (
    FINAL_SIZE,
    as_draft,
    hint_for,
    split_choices,
    structured_prompt,
    with_prompt_notes,
)
from commands.sheets import find_saved
from commands.takes import (
    approval_why,
    confirm_takes_reply,
    link_sheets,
    take_out_path,
    take_seeds,
)

NO_SHEET = (
    "Attach a reference sheet (PNG, JPEG or WebP): clean panels of the characters, props and "
    "location the video should keep."
)


def price(request: GenerationRequest, services: Services, aspect: float | None = None) -> Quote:
    size = request.size(aspect)
    return quote(size.width, size.height, request.num_frames, services.settings.price_per_megapixel)


def final_price(request: GenerationRequest, services: Services) -> Quote:
    """What a draft's final costs at the default final size (its Final button says so)."""
    return price(request.with_size(FINAL_SIZE), services)


async def generate(invocation: Invocation, services: Services) -> Reply:
    invocation = await with_composed(invocation, services)  # `/ltx sheet`'s buttons
    actor, place = invocation.actor, invocation.place
    # Read once: the channel check, its presets, the thresholds, the hold and its alerts.
    context = await services.budgets.admission_context(actor.scope_key, place.channel_id)
    context.check_channel()
    options, choices = split_choices(invocation.options)
    saved = await _saved_sheet(invocation, services)
    request = parse_request(with_defaults(options, context.defaults))
    if choices.draft:
        request = as_draft(request, options)
    check_delivery(place, request)  # before the sheet is fetched or anything recorded
    check_safety_choice(request, context.policy, actor.platform)
    if invocation.attachment is None and saved is None:
        raise InvalidSheet(NO_SHEET)
    if saved is not None:
        prefix = saved.prompt_prefix
    else:
        assert invocation.attachment is not None
        prefix = invocation.attachment.prompt_prefix
    asked = request.prompt
    sent = structured_prompt(asked, prefix, choices, actor.platform)
    job_id = invocation.job_id or services.new_id()
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
    request = request.with_size(request.size(aspect)).model_copy(update={"prompt": sent})
    reply = await start_job(
        job_id,
        request,
        sheet_path,
        invocation.actor,
        invocation.place,
        services,
        context.policy,
        origin_message_id=invocation.origin_message_id,
        draft=choices.draft,
        takes=choices.takes,
    )
    hint = hint_for(sent, prefix, choices)
    return with_prompt_notes(reply, sent, asked, hint)


async def _saved_sheet(invocation: Invocation, services: Services) -> SavedSheet | None:
    """The saved sheet `sheet_name` names (refused when a sheet is attached too)."""
    name = invocation.options.get("sheet_name")
    if name is None or not str(name).strip():
        return None
    if invocation.attachment is not None:
        raise InvalidRequest(["give a sheet or the name of a saved one, not both"])
    return await find_saved(invocation.actor, name, services)


def check_safety_choice(
    request: GenerationRequest, policy: ScopePolicy, platform: Platform
) -> None:
    """fal's safety checker stays on unless the scope's admins let members turn it off."""
    if request.enable_safety_checker:
        return
    if not policy.safety_optional:
        raise NotAllowed(
            "The safety checker cannot be turned off here. An admin can allow it with "
            f"`{platform.command('admin limits', safety_optional=True)}`."
        )


async def reroll(job: Job, actor: Actor, place: Place, services: Services) -> Reply:
    """The same request with a new seed, priced and held again like any other."""
    request = job.request.model_copy(update={"seed": None})
    return await restart(job, request, actor, place, services, rerolled_from=job.id)


async def restart(
    job: Job,
    request: GenerationRequest,
    actor: Actor,
    place: Place,
    services: Services,
    *,
    rerolled_from: str | None = None,
    final_of: str | None = None,
) -> Reply:
    """A new job from an ended one's sheet (Reroll, Final): `request` as it will be sent,
    with the job's own options rather than the channel's presets."""
    if not job.sheet_path or not await asyncio.to_thread(sheet_available, Path(job.sheet_path)):
        raise InvalidSheet(sheet_gone(job))
    context = await services.budgets.admission_context(
        actor.scope_key, place.channel_id, presets=False
    )
    context.check_channel()
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
        rerolled_from=rerolled_from,
        final_of=final_of,
        draft=job.draft and rerolled_from is not None,  # a draft's reroll is a draft too
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
    final_of: str | None = None,
    origin_message_id: str | None = None,
    draft: bool = False,
    takes: int = 1,
) -> Reply:
    """Record the job (or its `takes`, `commands.takes`), then hold the price atomically and
    hand it to the runner (or, above the scope's approval threshold, offer to ask an admin;
    above its confirmation threshold, ask the user to confirm the price first), all by the one
    `policy` the command read. The thresholds and the per-request maximum go by the total."""
    the_quote = price(request, services)
    total = the_quote.cost * takes
    services.budgets.check_request_size(total)
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
        draft=draft,
        final_nanos=final_price(request, services).cost.nanos if draft else None,
        final_of=final_of,
    )
    group = await _takes_of(job, takes, services) if takes > 1 else [job]
    above = policy.approval_above
    threshold = await services.budgets.confirmation_needed(actor.scope_key, total, policy=policy)
    for take in group:
        await services.jobs.insert(take)
    if above is not None and total > above:  # takes go to an admin as one group
        cost = the_quote.cost
        why = (
            approval_why(takes, total, above)
            if takes > 1
            else f"This video costs {cost.with_exact()}, above the {above.with_exact()} that "
            "needs an admin's approval here."
        )
        return await offer_approval(group[0], actor, services, policy, why)
    if threshold is not None and takes > 1:
        return confirm_takes_reply(job, the_quote, takes, threshold)
    if threshold is not None:
        return confirmation_reply(job, the_quote, threshold)
    return await hold_and_start(group[0], actor, services, policy)


async def _takes_of(first: Job, takes: int, services: Services) -> list[Job]:
    """`first` and its sibling takes: their own ids, seeds, sheet links and files."""
    seeds = take_seeds(first.request.seed, takes, services.new_seed)
    ids = (first.id, *(services.new_id() for _ in range(takes - 1)))
    sheets = [services.sheets_dir / f"{job_id}.png" for job_id in ids]
    await link_sheets(sheets[0], sheets[1:])
    out = first.origin.out_path
    return [
        first.model_copy(
            update={
                "id": job_id,
                "request": first.request.model_copy(update={"seed": seed}),
                "sheet_path": str(sheet),
                "take_ids": ids,
                "origin": first.origin.model_copy(update={"out_path": take_out_path(out, k)}),
            }
        )
        for k, (job_id, seed, sheet) in enumerate(zip(ids, seeds, sheets, strict=True), 1)
    ]
