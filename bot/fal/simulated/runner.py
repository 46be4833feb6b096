"""The life of one simulated request: queue countdown, logs while "generating", a real render,
then the outcome (or the failure a fault asks for)."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from bot.fal.simulated import model
from bot.fal.simulated.errors import model_error_item
from bot.fal.simulated.jobs import Outcome, SimJob
from bot.fal.simulated.render import VideoSpec, render_video
from bot.fal.simulated.wire import JSONObject

if TYPE_CHECKING:
    from bot.fal.simulated.server import SimulatedFal

log = logging.getLogger(__name__)
DENOISING_STEPS = 8
CANCELLED = Outcome(error_type="client_cancelled", error_detail="Request was cancelled")
# The submit's start timeout passed before a machine took the request: fal answers 504 with
# `X-Fal-Request-Timeout-Type: user` (docs: "Common parameters", X-Fal-Request-Timeout).
NOT_STARTED = Outcome(
    error_type="request_timeout", error_detail="Request timed out", timeout_type="user"
)
HELD_LOOK_SECONDS = 0.02  # how often a job held in the queue looks whether the fault changed


async def run_job(fal: SimulatedFal, job: SimJob) -> None:
    """Drive `job` to COMPLETED; never raises (an unexpected error becomes internal_error)."""
    try:
        outcome = await _run(fal, job)
    except asyncio.CancelledError:
        raise
    except Exception:  # a bug in the simulator must still complete the job, as fal would
        log.exception("simulated job %s crashed", job.request_id)
        outcome = Outcome(error_type="internal_error")
    await job.finish(outcome)
    fal.job_completed(job)


async def _queued(fal: SimulatedFal, job: SimJob) -> Outcome | None:
    """Wait for a machine, the position counting down; None once one starts the job, else how
    it ended unstarted (cancelled, or its start timeout passed: fal's 504, not billed)."""
    tick = fal.queue_seconds / (job.queue_position + 1)
    waited = 0.0  # simulated seconds, as the start timeout counts them
    deadline = job.start_timeout
    while True:
        floor = fal.faults.hold_in_queue_at
        held = floor is not None and job.queue_position <= floor
        wait = HELD_LOOK_SECONDS if held else tick
        if deadline is not None:
            wait = min(wait, max(0.0, deadline - waited))
        await fal.clock.sleep(job, wait)
        waited += wait
        if job.cancel_requested:
            return CANCELLED
        if deadline is not None and waited >= deadline:
            return NOT_STARTED
        if job.skip.is_set():  # finish(): a job the fault holds would wait to its deadline
            return NOT_STARTED if floor is not None and deadline is not None else None
        if job.queue_position == 0 and not held:
            return None
        if not held:
            job.queue_position -= 1
            await job.touch()


async def _run(fal: SimulatedFal, job: SimJob) -> Outcome:
    if (unstarted := await _queued(fal, job)) is not None:
        return unstarted
    await job.start()
    step = fal.generation_seconds / (DENOISING_STEPS + 2)
    await job.log("Loading model weights")
    problems = model.validate(job.arguments)
    if problems:
        await job.log("Input validation failed", level="ERROR")
        return Outcome(model_errors=problems)
    await fal.clock.sleep(job, step)
    sheet = fal.storage.read_sheet(str(job.arguments["image_url"]))
    if sheet is None:
        return _download_failed(job)
    try:
        aspect = await asyncio.to_thread(_aspect, sheet)
    except (UnidentifiedImageError, OSError):
        return Outcome(
            model_errors=[
                model_error_item(
                    ["body", "image_url"],
                    "Failed to load the image. Please ensure the image file is "
                    "not corrupted and is in a supported format.",
                    "image_load_error",
                    input=job.arguments["image_url"],
                )
            ]
        )
    for number in range(1, DENOISING_STEPS + 1):
        await job.log(f"Denoising step {number}/{DENOISING_STEPS}")
        await fal.clock.sleep(job, step)
        if job.cancel_requested and fal.honour_running_cancel:
            return CANCELLED
    if fal.faults.safety_rejection:
        return _safety_rejection(job)
    if fal.faults.run_error or job.arguments.get("seed") in fal.faults.run_error_seeds:
        await job.log("Runner lost", level="ERROR")
        return Outcome(error_type=fal.faults.run_error or "runner_disconnected")
    return await _render(fal, job, sheet, aspect)


async def _render(fal: SimulatedFal, job: SimJob, sheet: bytes, aspect: float) -> Outcome:
    arguments = job.arguments
    width, height = model.output_size(arguments, aspect)
    frames = int(model.number(arguments, "num_frames"))
    fps = float(model.number(arguments, "frames_per_second"))
    seed = model.chosen_seed(arguments, fal.rng)
    audio = bool(model.argument(arguments, "generate_audio"))
    billed = model.billable_megapixels(width, height, frames)  # what was asked, whatever is made
    made_width, made_height = fal.faults.render_size or (width, height)
    made_frames = fal.faults.render_frames or frames
    spec = VideoSpec(made_width, made_height, made_frames, fps, audio, seed)
    await job.log(f"Encoding video ({spec.even_size[0]}x{spec.even_size[1]}, {made_frames} frames)")
    path = fal.video_dir / f"{job.request_id}.mp4"
    size = await asyncio.to_thread(render_video, sheet, spec, path)
    url = fal.storage.adopt(path, f"{job.request_id}.mp4", "video/mp4", is_video=True)
    await job.log("Done")
    result: JSONObject = {
        "video": {
            "url": url,
            "content_type": "video/mp4",
            "file_name": path.name,
            "file_size": size,
        },
        "seed": seed,
        "prompt": model.echoed_prompt(arguments),
    }
    return Outcome(result=result, billable_units=billed)


def _aspect(sheet: bytes) -> float:
    with Image.open(io.BytesIO(sheet)) as image:
        image.verify()
        return image.width / image.height


def _download_failed(job: SimJob) -> Outcome:
    item = model_error_item(
        ["body", "image_url"],
        "Failed to download the file. Please check if the URL is accessible.",
        "file_download_error",
        input=job.arguments.get("image_url"),
    )
    return Outcome(model_errors=[item])


def _safety_rejection(job: SimJob) -> Outcome:
    item = model_error_item(
        ["body", "prompt"],
        "The content could not be processed because it contained material flagged by a content "
        "checker.",
        "content_policy_violation",
        input=job.arguments.get("prompt"),
    )
    return Outcome(model_errors=[item])
