"""For `adapters.console.cli`: `ltxbot resume` finishes the terminal's interrupted jobs (those no
live process holds a lease on) and saves each video to the `--out` path its generate was given
(stored with the job's origin), beside it when a different file is there now, and says where
each went."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.console.exit_codes import EXIT_FAILED, EXIT_OK
from adapters.console.output import SIMULATED_NOTICE, Output
from adapters.console.video_file import save_video
from bot.jobs.record import Job, JobState
from bot.model import Platform
from bot.settings import Settings
from commands.data import job_data

if TYPE_CHECKING:
    from adapters.app.core import Core
    from adapters.console import ConsoleAdapter
    from bot.jobs.supervisor import Supervisor


async def resume(settings: Settings, output: Output | None = None) -> int:
    """Resume the console's unfinished jobs and wait for each to end: 0 when every one was
    delivered (or there were none), 1 when one failed or was lost."""
    from adapters.app.core import build_core
    from adapters.console import ConsoleAdapter

    output = output or Output()
    # The terminal serves no webhook endpoint: its jobs are followed by stream or polling.
    async with build_core(settings, serves_webhooks=False) as core:
        console = ConsoleAdapter(settings, core.commands)
        core.posters[console.platform] = console.poster
        if core.services.simulated:
            output.note(SIMULATED_NOTICE)
        try:
            return await _resume(core, console, output)
        finally:
            await console.close()  # a live progress line gives the cursor back


async def _resume(core: Core, console: ConsoleAdapter, output: Output) -> int:
    resumed, elsewhere = await _resume_when_free(core.supervisor, console.platform, output)
    if elsewhere:
        output.say(
            f"{len(elsewhere)} job(s) are driven by another process (a running `ltxbot "
            f"generate`?), left to it: {', '.join(sorted(elsewhere))}"
        )
    if not resumed:
        output.say("no unfinished jobs" if not elsewhere else "nothing resumed here")
        return EXIT_OK
    output.say(f"resuming {len(resumed)} job(s): {', '.join(resumed)}")
    console.poster.release()
    await core.supervisor.wait(*resumed)
    code = EXIT_OK
    for job_id in resumed:
        job = await core.services.jobs.get(job_id)
        line, video = await _outcome(job_id, job)
        output.say(line)
        if job is not None:
            output.data({**job_data(job), "video": video})
        if job is None or job.state is not JobState.DELIVERED:
            code = EXIT_FAILED
    return code


async def _resume_when_free(
    supervisor: Supervisor, platform: Platform, output: Output
) -> tuple[list[str], set[str]]:
    """Resume the jobs nobody drives; wait up to a lease and a second for the leases of the
    others to run out (a process killed a moment ago leaves its leases for that long; a live
    one renews them and keeps its jobs). Returns the resumed ids and those left elsewhere."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + supervisor.ownership.seconds + 1.0
    resumed = await supervisor.resume([platform])
    while True:
        elsewhere = await supervisor.driven_elsewhere([platform])
        left = deadline - loop.time()
        if not elsewhere or left <= 0:
            return resumed, set(elsewhere)
        if not resumed:
            output.say(f"{len(elsewhere)} job(s) are driven by another process; waiting for it")
        # Each lease ends when the database said: sleep until the first does (a schedule,
        # not a poll), then claim what has lapsed.
        await asyncio.sleep(min(min(elsewhere.values()) + 0.05, left))
        resumed += await supervisor.resume([platform])


async def _outcome(job_id: str, job: Job | None) -> tuple[str, str | None]:
    """What became of the job, and where its video is now."""
    if job is None:
        return f"job {job_id}: lost", None
    line = f"job {job_id}: {job.state.value}"
    video = job.result.video_path if job.result else None
    if job.state is not JobState.DELIVERED or video is None:
        return line + (f" · {job.failure}" if job.failure else ""), None
    if job.origin.out_path is None:  # started before the path was stored with the job
        return f"{line} · video {video}", video
    saved = await save_video(Path(video), Path(job.origin.out_path), job.id)
    return f"{line} · {saved.sentence()}", str(saved.path)
