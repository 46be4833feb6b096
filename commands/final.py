"""final: a draft made again at full size, with the draft's request and the seed fal used for
it, priced and held like any job (`ltxbot final JOB`, `/ltx final`, the Final button).

The size is 1536x896 unless the user picks another (`resolution`; `auto` keeps the draft's
shape). Only the requester or an admin may make it; a draft whose sheet retention removed is
told so, as Reroll tells it. The final is posted where the button was pressed (the draft's
thread); the terminal saves it where `--out` says.
"""

from __future__ import annotations

from bot.errors import InvalidRequest
from bot.jobs.record import Job
from bot.model import Actor, Invocation, Place, Reply
from bot.request import GenerationRequest, ImageSize
from bot.request_parsing import parse_request
from commands.context import Services
from commands.creative import FINAL_SIZE
from commands.generate import restart
from commands.jobs import load_job


async def final(invocation: Invocation, services: Services) -> Reply:
    """`final JOB [take] [resolution]`."""
    actor = invocation.actor
    job = await load_job(str(invocation.options["job"]), actor, services, acting=True)
    take = invocation.options.get("take")
    if take is not None:  # any take's id, and the take's number: that take's final
        job = await load_job(take_id(job, take), actor, services, acting=True)
    resolution = invocation.options.get("resolution")
    return await make_final(job, actor, invocation.place, services, resolution)


def take_id(job: Job, take: object) -> str:
    """The job id of take `take` (1..N) of `job`'s request; a sentence when it has none."""
    number = int(str(take)) if str(take).strip().isdigit() else 0
    if not job.take_ids:
        raise InvalidRequest([f"take = {take}: job `{job.id}` is one video, not takes"])
    if not 1 <= number <= len(job.take_ids):
        raise InvalidRequest(
            [f"take = {take} is out of range: job `{job.id}` has takes 1 to {len(job.take_ids)}"]
        )
    return job.take_ids[number - 1]


async def make_final(
    draft: Job, actor: Actor, place: Place, services: Services, resolution: object = None
) -> Reply:
    """The draft's final: same request, the draft's seed, the final's size."""
    request = final_request(draft, resolution)
    return await restart(draft, request, actor, place, services, final_of=draft.id)


def final_request(draft: Job, resolution: object, *, seeded: bool = True) -> GenerationRequest:
    """What a draft's final sends: its request at the final's size, with the seed fal rendered
    the draft with (`seeded=False`: only for a price, before the draft is done)."""
    if not draft.draft:
        raise InvalidRequest(
            [
                f"Job `{draft.id}` is not a draft, so it has no final: make a draft with the "
                "draft option, then its Final."
            ]
        )
    seed = draft.result.seed if draft.result else None
    if seed is None and seeded:
        raise InvalidRequest(
            [
                f"Draft `{draft.id}` has no video yet ({draft.state.value}): its final uses the "
                "seed fal rendered the draft with, known once the draft is done."
            ]
        )
    request = draft.request.model_copy(update={"seed": seed}) if seed is not None else draft.request
    return request.with_size(final_size(draft, resolution))


def final_size(draft: Job, resolution: object) -> ImageSize:
    """1536x896, or the size asked (checked as the request checks sizes; `auto`: the draft's
    own shape at the default pixel count)."""
    if resolution is None or resolution == "":
        return FINAL_SIZE
    asked = parse_request({"prompt": "final", "resolution": resolution})
    drafted = draft.request.size()
    return asked.size(drafted.width / drafted.height)
