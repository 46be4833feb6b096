"""For `adapters.console.cli`: `ltxbot resume` finishes the terminal's interrupted jobs and
saves each video to the `--out` path its generate was given (stored with the job's origin),
beside it when a different file is there now."""

from __future__ import annotations

from pathlib import Path

from adapters.console.video_file import save_video
from bot.jobs.record import Job, JobState
from bot.settings import Settings


async def resume(settings: Settings) -> int:
    """Resume the console's unfinished jobs and wait for each to end."""
    from adapters.app.core import build_core
    from adapters.console import ConsoleAdapter

    # The terminal serves no webhook endpoint: its jobs are followed by stream or polling.
    async with build_core(settings, serves_webhooks=False) as core:
        console = ConsoleAdapter(settings, core.commands)
        core.posters[console.platform] = console.poster
        resumed = await core.supervisor.resume([console.platform])
        if not resumed:
            print("no unfinished jobs")
            return 0
        print(f"resuming {len(resumed)} job(s): {', '.join(resumed)}")
        await core.supervisor.wait(*resumed)
        for job_id in resumed:
            print(await _outcome(job_id, await core.services.jobs.get(job_id)))
    return 0


async def _outcome(job_id: str, job: Job | None) -> str:
    if job is None:
        return f"job {job_id}: lost"
    line = f"job {job_id}: {job.state.value}"
    video = job.result.video_path if job.result else None
    if job.state is not JobState.DELIVERED or video is None:
        return line + (f" · {job.failure}" if job.failure else "")
    if job.origin.out_path is None:  # started before the path was stored with the job
        return f"{line} · video {video}"
    saved = await save_video(Path(video), Path(job.origin.out_path), job.id)
    return f"{line} · {saved.sentence()}"
