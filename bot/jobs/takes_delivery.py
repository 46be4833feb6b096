"""A request's takes delivered together: the last take to end posts every finished one in one
message (`bot.ports.TakesPoster`), then each is captured on its own.

Takes may be driven by different replicas (job leases), so "the last one" is decided in the
job store: a take that finds a sibling still held, submitted or running leaves the posting to
it (it stays SUCCEEDED, its hold open); one that finds them all ended claims the post on take
1's record with the store's versioned swap (`takes_posted_by`). Exactly one take wins; only
a re-drive of that take (a restart, the sweep, another replica once its lease lapsed) tries
the post again, any other returns. A take that fails or is cancelled last hands the post to
a finished sibling (`after_take_ended`).

The group post is exactly once like a single video's (bot.jobs.delivery): its steps are noted
on the record of the take that posts (the claimant) with take 1's key, so a re-drive after a
crash finds the earlier post; the claimant is captured last, so a crash part-way through the
captures leaves it SUCCEEDED to post (find) again and capture the rest. A sibling taken over
from a replica with its own disk has its video fetched again (bot.jobs.local_video).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import Superseded, Undeliverable
from bot.events import Cancelled, Failed, JobEvent, Succeeded
from bot.jobs.delivery import RecordedAttempt, delivery_key
from bot.jobs.local_video import video_on_disk
from bot.jobs.record import ACTIVE, Job, JobState, charge_of
from bot.money import Money
from bot.ports import Delivery, TakesPoster

if TYPE_CHECKING:
    from bot.jobs.lifecycle import Lifecycle

log = logging.getLogger(__name__)
TRIES = 3


async def _takes(life: Lifecycle, job: Job) -> list[Job]:
    found = await asyncio.gather(*(life.jobs.get(job_id) for job_id in job.take_ids))
    return [take for take in found if take is not None]


async def deliver_takes(life: Lifecycle, job: Job, poster: TakesPoster) -> Job:
    """Post the group if `job` is the take that ends it (see the module doc); `job` as stored
    after."""
    takes = await _takes(life, job)
    if not takes or any(take.state in ACTIVE for take in takes):
        return job  # a take still renders: the last to end posts them all
    now = life.clock()
    leader = await life.update(
        takes[0],
        lambda j: None if j.takes_posted_by else j.with_changes(now, takes_posted_by=job.id),
    )
    if leader.takes_posted_by != job.id:
        return job  # another take posts them
    fresh = [leader if take.id == leader.id else take for take in takes]
    ready = []  # a re-drive after a crash part-way through the captures: DELIVERED ones too
    for take in fresh:
        if take.state is JobState.DELIVERED and take.result and take.result.video_path:
            ready.append(take)
        elif take.state is JobState.SUCCEEDED and take.result and take.result.video_path:
            here = await video_on_disk(life, take)
            if here is None:
                return await life.reload(job)  # fal's store out of reach: the next try posts
            if here.state is JobState.SUCCEEDED:
                ready.append(here)
    parts: list[tuple[Job, Path, Succeeded]] = []
    for take in ready:
        assert take.result is not None and take.result.video_path is not None
        video = Path(take.result.video_path)
        charge = Money(charge_of(take))
        room = await life.room_after(take) if take.state is JobState.SUCCEEDED else None
        parts.append((take, video, Succeeded(video, charge, room)))
    if not any(take.state is JobState.SUCCEEDED for take, _, _ in parts):
        return await life.reload(job)
    ids = {take.id for take, _, _ in parts}  # every other take ended: shown with its reason
    ended = [(await life.reload(take)) for take in fresh if take.id not in ids]
    claimant = await life.reload(job)
    delivery = await _post(life, leader, claimant, parts, ended, poster)
    if delivery is None:
        return await life.reload(job)
    # The claimant last: until it is DELIVERED a re-drive finds the post and captures the rest.
    for take, _, _ in sorted(parts, key=lambda part: part[0].id == job.id):
        if take.state is JobState.SUCCEEDED:
            await life.delivered(await life.reload(take), delivery)
    return await life.reload(job)


async def _post(
    life: Lifecycle,
    leader: Job,
    claimant: Job,
    parts: list[tuple[Job, Path, Succeeded]],
    ended: list[Job],
    poster: TakesPoster,
) -> Delivery | None:
    """The one message; None when it did not go (Undeliverable: each take released, FAILED;
    other errors: left SUCCEEDED and held, for the next try). Its steps are noted on the
    claimant's record, keyed by take 1 (the group's one key)."""
    recorded = RecordedAttempt(claimant, life.update, life.clock, key=delivery_key(leader.id))
    for attempt in range(1, TRIES + 1):
        try:
            return await poster.deliver_takes(leader, parts, recorded, ended)
        except Undeliverable as refused:
            for take, _, _ in parts:
                if take.state is JobState.SUCCEEDED:
                    await life.undeliverable(await life.reload(take), refused.reason)
            return None
        except Superseded:
            log.warning("takes of %s: delivered or ended elsewhere; not posted here", leader.id)
            return None
        except Exception:
            log.exception("takes of %s: delivery try %d failed", leader.id, attempt)
            if attempt < TRIES:
                await asyncio.sleep(0.5 * attempt)
    return None


async def after_take_ended(life: Lifecycle, job: Job) -> None:
    """A take failed or was cancelled: when it was the last to end, a finished sibling posts
    the group now, driven under its own lease (`Lifecycle.redrive`: the supervisor claims it;
    a sibling whose driver is still finishing is left to the sweep, which drives SUCCEEDED
    jobs nobody drives). Never raises (the take's own ending is already told)."""
    if not job.take_ids:
        return
    try:
        for take in await _takes(life, job):
            if take.state is JobState.SUCCEEDED:
                if life.redrive is not None:
                    await life.redrive(take.id)
                else:  # no supervisor (a lifecycle on its own): deliver here
                    await life.deliver(take)
                return
    except Exception:
        log.exception("job %s: its takes were not posted; the sweep tries again", job.id)


async def with_takes_status(life: Lifecycle, job: Job, event: JobEvent) -> Job:
    """A take 2..N that ends (failed, cancelled) without a status message of its own is told in
    take 1's thread: `job` with `origin.takes_status_id`, take 1's status message (as stored
    now), for the poster; `job` itself otherwise."""
    if not isinstance(event, Failed | Cancelled) or job.take in (None, 1):
        return job
    if job.origin.status_message_id or job.origin.takes_status_id or not job.take_ids:
        return job
    leader = await life.jobs.get(job.take_ids[0])
    status = leader.origin.status_message_id if leader else None
    if status is None:
        return job  # take 1 has shown nothing yet: the take opens its own message
    origin = job.origin.model_copy(update={"takes_status_id": status})
    return job.model_copy(update={"origin": origin})
