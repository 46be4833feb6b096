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

from bot.jobs.record import Job, JobState

if TYPE_CHECKING:
    from bot.jobs.lifecycle import Lifecycle

log = logging.getLogger(__name__)


async def video_on_disk(lifecycle: Lifecycle, job: Job) -> Job:
    """`job` with its `video_path` naming a file that exists here (downloaded again when the
    stored one is missing); a download that fails raises as `finish`'s does."""
    assert job.result is not None and job.result.video_path is not None
    if await asyncio.to_thread(Path(job.result.video_path).exists):
        return job
    video = lifecycle.videos / f"{job.id}.mp4"
    log.warning("job %s: its video is not on this replica's disk; fetching it from fal", job.id)
    await lifecycle.gateway.download(
        job.result.video_url, video, max_bytes=lifecycle.max_video_bytes
    )
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
