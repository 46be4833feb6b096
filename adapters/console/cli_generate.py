"""For `adapters.console.cli`: `ltxbot generate` after its first reply: the price confirmation,
the wait for the video (`job_watch`), saving it, and what Ctrl-C does to the job.

Ctrl-C leaves a job that fal is rendering where it is (cancelling it would not get the money
back: fal may still finish and bill it), and says how to fetch it (`ltxbot resume`) or cancel
it; a job not yet at fal, or still in fal's queue, is cancelled and its hold released.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.console.cli_admin import (
    confirmation_job,
    give_up_waiting,
    settle_confirmation,
    terminal_asker,
)
from adapters.console.exit_codes import EXIT_FAILED, EXIT_OK
from adapters.console.job_watch import Ending, ending_line, wait_for_ending
from adapters.console.output import Output
from adapters.console.reply_text import render
from adapters.console.video_file import save_video
from bot.errors import LtxbotError
from bot.events import Cancelled, Failed, Succeeded
from bot.jobs.record import Job, JobState
from bot.model import Actor, ButtonAction, Place, Reply
from commands import Commands
from commands.data import job_data

if TYPE_CHECKING:
    from adapters.app.core import Core
    from adapters.console import ConsoleAdapter

# A cancelled submit still has to learn fal's request id to cancel it there: wait this long.
SUBMIT_GRACE_SECONDS = 15.0
LOOK_LIMIT = 10.0  # one status look at fal after Ctrl-C, at most


async def settled(
    commands: Commands, reply: Reply, yes: bool, actor: Actor, place: Place, output: Output
) -> Reply:
    """A generate's reply once any price confirmation is answered (a job that waits for an
    approval is aborted: raises UserError). With --json the question goes to stderr."""
    waiting = confirmation_job(reply)
    if waiting is not None:
        ask = None if yes else terminal_asker(stdout=output.err if output.json else None)
        if ask is not None:
            (output.note if output.json else output.say)(render(reply))
        try:
            reply = await settle_confirmation(
                commands, waiting, actor, place, assume_yes=yes, ask=ask
            )
        except asyncio.CancelledError:  # Ctrl-C at the question: nothing is held yet
            print("\n" + await _unconfirmed(commands, waiting, actor, place), file=sys.stderr)
            raise
    await give_up_waiting(commands, reply, actor, place)
    return reply


async def _unconfirmed(commands: Commands, job_id: str, actor: Actor, place: Place) -> str:
    job = await commands.services.jobs.get(job_id)
    if job is not None and job.state is JobState.RECEIVED:
        await commands.press(ButtonAction.ABORT, job_id, actor, place)
        return f"stopped; job {job_id} was not started and nothing was held"
    state = job.state.value if job else "gone"
    return f"stopped; job {job_id} is {state}: `ltxbot show {job_id}` says more"


async def await_video(
    core: Core,
    console: ConsoleAdapter,
    job_id: str,
    out: Path,
    output: Output | None = None,
    force: bool = False,
) -> int:
    try:
        ending = await wait_for_ending(core, console.poster, job_id)
    except asyncio.CancelledError:  # Ctrl-C: say what became of the job, then stop
        console.poster.close()  # the live line ends here, not after the sentence below
        print("\n" + await interrupted(core, job_id, out), file=sys.stderr)
        raise
    stored = await core.services.jobs.get(job_id)
    return await report(ending, out, output or Output(), force=force, stored=stored)


def take_ids(reply: Reply) -> list[str]:
    """The job ids of a generate's takes (empty for one video)."""
    data = reply.data if isinstance(reply.data, Mapping) else {}
    takes = data.get("takes")
    if not isinstance(takes, list):
        return []
    return [str(take["job_id"]) for take in takes if isinstance(take, Mapping)]


async def await_takes(
    core: Core,
    console: ConsoleAdapter,
    job_ids: list[str],
    out: Path,
    output: Output | None = None,
    force: bool = False,
) -> int:
    """Each take saved to its own file (`out-1.mp4`, ... as stored with the job, so `resume`
    finds it too), one line (or --json object) per take; exit 1 when any take failed."""
    codes = []
    for job_id in job_ids:  # they render together; each is awaited in turn
        job = await core.services.jobs.get(job_id)
        path = Path(job.origin.out_path) if job and job.origin.out_path else out
        codes.append(await await_video(core, console, job_id, path, output, force))
    return max(codes)


async def report(
    ending: Ending,
    out: Path,
    output: Output | None = None,
    *,
    force: bool = False,
    stored: Job | None = None,
) -> int:
    """Save the video and say so (exit 0), or say how the job ended (exit 1). `stored`: the
    job as stored once it ended (captured, delivered), for --json."""
    output = output or Output()
    job, event = ending.job, ending.event
    if isinstance(event, Succeeded) and job is not None:
        saved = await save_video(event.video, out, job.id, overwrite=force)
        seed = job.result.seed if job.result else None
        remaining = f", {event.remaining.room_text()} left" if event.remaining is not None else ""
        cost = "not charged (simulated)" if job.simulated else str(event.cost)
        take = f" · take {job.take}/{len(job.take_ids)}" if job.take is not None else ""
        output.say(
            f"{saved.sentence()}{take} · job {job.id} · seed {seed} · cost {cost}{remaining}"
        )
        left = event.remaining.exact_str() if event.remaining is not None else None
        output.data(_done(stored or job, saved.path, left))
        return EXIT_OK
    if isinstance(event, Failed | Cancelled):  # ended here: the poster has said so in words
        if output.json:
            output.error(_ended_here(ending.job_id, event))
        return EXIT_FAILED
    video = await _video(job)
    if job is not None and video is not None:  # delivered by another `ltxbot resume`
        saved = await save_video(video, out, job.id, overwrite=force)
        output.say(f"job {job.id} was delivered by another process; {saved.sentence()}")
        output.data(_done(stored or job, saved.path, None))
        return EXIT_OK
    return output.error(ending_line(ending))


def _done(job: Job, video: Path, left: str | None) -> dict[str, object]:
    """`generate --json`'s one object: the job as `show --json` has it, where the video went,
    and the budget left."""
    return {**job_data(job), "video": str(video.absolute()), "budget_left_usd": left}


def _ended_here(job_id: str, event: Failed | Cancelled) -> str:
    if isinstance(event, Failed):
        return f"job {job_id} failed: {event.reason} ({event.refunded} released)"
    return f"job {job_id} was cancelled; {event.refunded} released"


async def _video(job: Job | None) -> Path | None:
    if job is None or job.state is not JobState.DELIVERED or job.result is None:
        return None
    if not job.result.video_path:
        return None
    path = Path(job.result.video_path)
    exists = await asyncio.to_thread(path.is_file)
    return path if exists else None


async def interrupted(core: Core, job_id: str, out: Path) -> str:
    """Ctrl-C: cancel the job if fal has not started it, else leave it; what happened."""
    job = await core.services.jobs.get(job_id)
    if job is None or job.is_final:
        state = job.state.value if job else "gone"
        return f"stopped; job {job_id} had already ended ({state})"
    later = f"`ltxbot resume` saves it to {out}; `ltxbot cancel {job_id}` asks fal to stop it"
    if job.state is JobState.SUCCEEDED:
        return f"stopped; job {job_id} is rendered but not saved yet: {later}"
    if job.state is JobState.RUNNING or not await _not_started(core, job):
        return f"stopped; job {job_id} is rendering at fal and was left running: {later}"
    outcome = await core.supervisor.cancel(job_id)
    if isinstance(outcome, Cancelled):
        # Let a submit under way learn fal's request id and cancel it there (bounded).
        with suppress(TimeoutError):
            await asyncio.wait_for(core.supervisor.wait(job_id), SUBMIT_GRACE_SECONDS)
    if outcome is None:
        ended = await core.services.jobs.get(job_id)
        return f"stopped; job {job_id} ended meanwhile ({ended.state.value if ended else 'gone'})"
    if isinstance(outcome, Cancelled):
        where = "still in fal's queue" if job.fal_request_id else "not at fal yet"
        return f"stopped; job {job_id} was {where}: cancelled, {outcome.refunded} released"
    return (
        f"stopped; fal had just started job {job_id}: asked fal to stop it. The hold stays until "
        f"the render ends and you are charged only if the video is made; {later}"
    )


async def _not_started(core: Core, job: Job) -> bool:
    """True while fal has not started the job (not submitted yet, or in fal's queue); False
    when fal renders it or cannot say (then the job is left alone)."""
    if job.fal_request_id is None:
        return job.state is JobState.HELD
    try:  # bounded: the user pressed Ctrl-C to stop, not to wait for fal's retries
        status = await asyncio.wait_for(core.gateway.status(job.fal_request_id), LOOK_LIMIT)
    except (LtxbotError, TimeoutError):
        return False
    return status.state == "IN_QUEUE"
