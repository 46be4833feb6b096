"""The steps of a job after fal: record, publish, settle money, deliver, fail.

`Lifecycle` holds what those steps need (job store, ledger, posters, clock, probe) and is driven
by `bot.jobs.supervisor.Supervisor`. Every write goes through `update`, which swaps the record
under the optimistic lock and, on a lost race, reloads the job and asks the change again, so
each step decides from the state actually stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from pathlib import Path

from bot.errors import LostJob, Superseded, Undeliverable
from bot.events import Failed, JobEvent, Succeeded
from bot.jobs.billing import settle
from bot.jobs.delivery import RecordedAttempt
from bot.jobs.fal_answer import result_from_payload
from bot.jobs.local_video import video_on_disk
from bot.jobs.record import ACTIVE, AT_FAL, Job, JobState, Origin, Rendered, charge_of
from bot.jobs.takes_delivery import after_take_ended, deliver_takes, with_takes_status
from bot.model import Platform
from bot.money import Money
from bot.ports import Clock, Delivery, FalResult, Gateway, JobStore, Ledger, Poster, TakesPoster
from bot.ports.signals import JobSignals

log = logging.getLogger(__name__)
Change = Callable[[Job], Job | None]
Probe = Callable[[Path], Awaitable[Rendered]]
DELIVERY_TRIES = 3


def with_status(origin: Origin, message_id: str | None) -> Origin:
    """`origin` pointing at the status message `message_id` (unchanged for None)."""
    if message_id is None:
        return origin
    return origin.model_copy(update={"status_message_id": message_id})


class Lifecycle:
    def __init__(
        self,
        *,
        jobs: JobStore,
        ledger: Ledger,
        gateway: Gateway,
        posters: Mapping[Platform, Poster],
        clock: Clock,
        remaining: Callable[[Job, Money], Awaitable[Money | None]],
        data_dir: Path,
        price_per_megapixel: Decimal,
        probe: Probe,
        max_video_bytes: int,
    ) -> None:
        self.jobs, self.ledger, self.gateway = jobs, ledger, gateway
        self.posters, self.clock, self.remaining = posters, clock, remaining
        self.videos = data_dir / "videos"
        self.price = price_per_megapixel
        self.probe = probe
        self.max_video_bytes = max_video_bytes
        # Drive a job under its lease (the supervisor's claim), for a take that ends its group.
        self.redrive: Callable[[str], Awaitable[object]] | None = None

    # --- records ----------------------------------------------------------------------------

    async def update(self, job: Job, change: Change, *, wake: JobSignals | None = None) -> Job:
        """Apply `change` (None = nothing to do) and store it; on a lost race reload, re-ask.
        `wake`: the stored change also signals the job's driver there (`JobStore.replace`)."""
        for _ in range(8):
            candidate = change(job)
            if candidate is None:
                return job
            if await self.jobs.replace(candidate, wake=wake):
                return candidate
            fresh = await self.jobs.get(job.id)
            if fresh is None:
                raise LostJob(job.id)
            job = fresh
        raise LostJob(f"{job.id}: the job store kept refusing the update")

    async def reload(self, job: Job) -> Job:
        fresh = await self.jobs.get(job.id)
        if fresh is None:
            raise LostJob(job.id)
        return fresh

    # --- messages ---------------------------------------------------------------------------

    async def publish(self, job: Job, event: JobEvent) -> Job:
        """Tell the adapter and store a new status message id; a poster error is logged and
        never loses the job."""
        message_id = await self.show(job, event)
        if message_id is None:
            return job
        return await self.update(
            job, lambda j: j.with_changes(self.clock(), origin=with_status(j.origin, message_id))
        )

    async def show(self, job: Job, event: JobEvent) -> str | None:
        """Tell the adapter; the status message id when it is one the job does not store yet
        (for the caller to store, maybe with its own change), else None."""
        poster = self.posters.get(job.origin.platform)
        if poster is None:
            log.warning("job %s: no poster for %s", job.id, job.origin.platform)
            return None
        try:  # a take 2..N's ending is told where take 1's status message is
            message_id = await poster.progress(await with_takes_status(self, job, event), event)
        except Exception:
            log.exception("job %s: could not show %s", job.id, type(event).__name__)
            return None
        if not message_id or message_id == job.origin.status_message_id:
            return None
        return message_id

    # --- endings ----------------------------------------------------------------------------

    async def record_result(self, job: Job, fal: FalResult) -> Job:
        """Persist fal's answer the moment it arrives (the queue forgets it within the hour)."""
        result = result_from_payload(fal)
        return await self.update(
            job,
            lambda j: (
                j.with_changes(self.clock(), result=result)
                if j.result is None and j.state in (*AT_FAL, JobState.CANCELLED)
                else None
            ),
        )

    async def finish(self, job: Job) -> Job:
        """Download, probe and settle (bot.jobs.billing) -> SUCCEEDED. The hold stays until
        the requester has the video (`deliver` captures it); a simulated one is released."""
        assert job.result is not None
        video = self.videos / f"{job.id}.mp4"
        await self.gateway.download(job.result.video_url, video, max_bytes=self.max_video_bytes)
        rendered = await self.probe(video)
        bill = settle(
            job_id=job.id,
            hold=Money(job.quoted_nanos),
            billable_units=job.result.billable_units,
            rendered=rendered,
            price_per_megapixel=self.price,
        )
        charge, uncharged = bill.charge, bill.uncharged
        if job.simulated:
            await self.ledger.release(
                job_id=job.id, at=self.clock(), note="simulated: nothing charged"
            )
            charge = uncharged = Money.zero()
        result = job.result.model_copy(update={"rendered": rendered, "video_path": str(video)})
        return await self.update(
            job,
            lambda j: (
                j.advance(
                    JobState.SUCCEEDED,
                    self.clock(),
                    result=result,
                    charge_nanos=charge.nanos,
                    billed_megapixels=bill.billed_megapixels,
                    billed_nanos=None if bill.billed is None else bill.billed.nanos,
                    probed_megapixels=bill.probed_megapixels,
                    probed_nanos=bill.probed.nanos,
                    uncharged_nanos=uncharged.nanos,
                    finished_at=self.clock(),
                )
                if j.state in AT_FAL
                else None
            ),
        )

    async def deliver(self, job: Job) -> Job:
        """Get the video to the requester, then capture -> DELIVERED. When no way is left
        (Undeliverable) the hold is released -> FAILED, the video kept. Other poster errors
        leave the job SUCCEEDED, still held, for the next try (the sweep, a restart). Exactly
        once: the poster notes each step on the job before taking it (bot.jobs.delivery), so a
        try after a crash finds the earlier post instead of posting again, and the capture is
        keyed by the job id."""
        poster = self.posters.get(job.origin.platform)
        if poster is None:
            log.error("job %s: no poster for %s; delivery waits", job.id, job.origin.platform)
            return job
        here = await video_on_disk(self, job)  # taken over from a replica with its own disk
        if here is None or here.state is not JobState.SUCCEEDED:
            return here or job  # fal's store out of reach (tried again later), or lost
        job = here
        if job.take_ids and isinstance(poster, TakesPoster):
            return await deliver_takes(self, job, poster)  # the last take posts them all
        assert job.result is not None and job.result.video_path is not None
        charge = Money(charge_of(job))
        event = Succeeded(Path(job.result.video_path), charge, await self.room_after(job))
        # Each step of the post is noted on the job before it is taken (bot.jobs.delivery).
        recorded = RecordedAttempt(job, self.update, self.clock)
        for attempt in range(1, DELIVERY_TRIES + 1):
            try:
                delivery = await poster.deliver(
                    recorded.job, Path(job.result.video_path), event, recorded
                )
                break
            except Undeliverable as refused:
                return await self.undeliverable(recorded.job, refused.reason)
            except Superseded:
                log.warning("job %s: delivered or ended elsewhere; not posted here", job.id)
                return await self.reload(job)
            except Exception:
                log.exception("job %s: delivery try %d failed", job.id, attempt)
                if attempt == DELIVERY_TRIES:
                    return recorded.job  # left SUCCEEDED and held: delivered on the next try
                await asyncio.sleep(0.5 * attempt)
        return await self.delivered(recorded.job, delivery)

    async def delivered(self, job: Job, delivery: Delivery) -> Job:
        """The requester has the video: capture its charge (keyed by the job id: never
        twice) -> DELIVERED."""
        charge = Money(charge_of(job))
        if not job.simulated and not await self.ledger.capture(
            job_id=job.id, amount=charge, at=self.clock()
        ):
            log.warning("job %s: capture found the hold already closed", job.id)
        origin_change = {"result_message_id": delivery.message_id, "delivered_via": delivery.route}
        return await self.update(
            job,
            lambda j: (
                j.advance(
                    JobState.DELIVERED,
                    self.clock(),
                    origin=j.origin.model_copy(update=origin_change),
                    captured_nanos=charge.nanos,
                )
                if j.state == JobState.SUCCEEDED
                else None
            ),
        )

    async def undeliverable(self, job: Job, reason: str) -> Job:
        """Every way to the requester refused: release the hold, keep the video, tell them
        where they can see it (the adapter picks: the status message, privately)."""
        now = self.clock()
        if not job.simulated:
            await self.ledger.release(job_id=job.id, at=now, note="undeliverable")
        failure = (
            f"{reason} Nothing was charged. The video is kept: whoever runs the bot finds it "
            f"with `ltxbot show {job.id}`."
        )
        log.warning("job %s: undeliverable: %s", job.id, reason)
        ended = await self.update(
            job,
            lambda j: (
                j.advance(JobState.FAILED, now, failure=failure)
                if j.state == JobState.SUCCEEDED
                else None
            ),
        )
        if ended.state is not JobState.FAILED:
            return ended
        refunded = Money.zero() if job.simulated else Money(job.quoted_nanos)
        return await self.publish(ended, Failed(failure, refunded=refunded))

    async def room_after(self, job: Job) -> Money | None:
        """The requester's room once this job's capture has given back the rest of its hold."""
        given_back = Money.zero() if job.simulated else Money(job.quoted_nanos - charge_of(job))
        try:
            return await self.remaining(job, given_back)
        except Exception:
            log.exception("job %s: could not work out the remaining budget", job.id)
            return None

    async def fail(self, job: Job, reason: str) -> Job:
        """-> FAILED with the sentence, release the hold, tell the user. No-op if already over."""
        now = self.clock()
        ended = await self.update(
            job,
            lambda j: (
                j.advance(JobState.FAILED, now, failure=reason, finished_at=now)
                if j.state in ACTIVE
                else None
            ),
        )
        if ended.state != JobState.FAILED or ended.failure != reason or ended.finished_at != now:
            return ended
        log.info("job %s failed: %s", job.id, reason)
        await self.ledger.release(job_id=job.id, at=now, note=reason[:500])
        told = await self.publish(ended, Failed(reason, refunded=Money(job.quoted_nanos)))
        await after_take_ended(self, told)
        return told

    async def settle_cancelled(self, job: Job, *, wake: JobSignals | None = None) -> Job:
        """A cancelled job that fal will not render: release its hold, record the end (that
        write wakes the job's follower on `wake`)."""
        now = self.clock()
        await self.ledger.release(job_id=job.id, at=now, note="cancelled")
        ended = await self.update(
            job,
            lambda j: j.with_changes(now, finished_at=now) if j.finished_at is None else None,
            wake=wake,
        )
        await after_take_ended(self, ended)
        return ended
