"""A finished job's MP4 on the disk of the replica that delivers it.

Replicas are meant to share one `LTXBOT_DATA_DIR` volume, but a replica that takes over a
SUCCEEDED job from another whose disk it cannot see (no shared volume, a lost volume) must not
leave the job stuck or post nothing: fal keeps a result on its CDN for days, so the video is
fetched again from the stored `video_url` into this replica's videos folder.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import FalUnavailable, GenerationFailed
from bot.events import Failed
from bot.jobs.record import Job, JobState
from bot.money import Money

if TYPE_CHECKING:
    from bot.jobs.lifecycle import Lifecycle

log = logging.getLogger(__name__)


async def video_on_disk(lifecycle: Lifecycle, job: Job) -> Job | None:
    """`job` with its `video_path` naming a file that exists here (downloaded again when the
    stored one is missing); None when fal's store cannot be reached now (the job stays
    SUCCEEDED, still held, for the next try). A video fal no longer has either ends the job
    FAILED with a sentence and its hold released (the returned job is then not SUCCEEDED)."""
    assert job.result is not None and job.result.video_path is not None
    if await asyncio.to_thread(Path(job.result.video_path).exists):
        return job
    video = lifecycle.videos / f"{job.id}.mp4"
    log.warning("job %s: its video is not on this replica's disk; fetching it from fal", job.id)
    try:
        await lifecycle.gateway.download(
            job.result.video_url, video, max_bytes=lifecycle.max_video_bytes
        )
    except FalUnavailable:
        log.warning("job %s: fal's file store is out of reach; delivery waits", job.id)
        return None
    except GenerationFailed as gone:
        return await _lost(lifecycle, job, gone.reason)
    if str(video) == job.result.video_path:
        return job
    result = job.result.model_copy(update={"video_path": str(video)})
    return await lifecycle.update(
        job,
        lambda j: (
            j.with_changes(lifecycle.clock(), result=result)
            if j.state is JobState.SUCCEEDED
            else None
        ),
    )


async def _lost(lifecycle: Lifecycle, job: Job, reason: str) -> Job:
    """SUCCEEDED -> FAILED with a sentence, the hold released, the user told: the video exists
    nowhere this bot can reach, so it is not charged."""
    now = lifecycle.clock()
    sentence = (
        f"The video was made but is neither on the bot's disk nor at fal any more ({reason}). "
        "Nothing was charged; please run it again."
    )
    ended = await lifecycle.update(
        job,
        lambda j: (
            j.advance(JobState.FAILED, now, failure=sentence, finished_at=now)
            if j.state is JobState.SUCCEEDED
            else None
        ),
    )
    if ended.state is not JobState.FAILED or ended.finished_at != now:
        return ended
    log.error("job %s: its video is lost: %s", job.id, reason)
    if not job.simulated:
        await lifecycle.ledger.release(job_id=job.id, at=now, note="video lost")
    return await lifecycle.publish(ended, Failed(sentence, refunded=Money(job.quoted_nanos)))
