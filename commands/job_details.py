"""A job as `history` lists it and as Details shows it: its state, money, times and files."""

from __future__ import annotations

from bot.jobs.record import Job, JobState
from bot.model import Reply
from bot.money import Money
from commands.job_words import job_money, job_time
from commands.render import short, stop_asked_text


def _billed(job: Job) -> str:
    if job.billed_nanos is not None:
        return f"{Money(job.billed_nanos)} ({job.billed_megapixels} MP)"
    header = job.result.billable_units if job.result else None
    if header is None:
        return "no bill sent"
    return f"not used (x-fal-billable-units {short(header, 40)!r})"


def job_line(job: Job) -> str:
    """One job of `history`: its state and what the ledger did with its money."""
    when = job.created_at.strftime("%Y-%m-%d %H:%M")
    money = job_money(job)
    return f"`{job.id}` {when} · {job.state.value} · {money} · {short(job.request.prompt, 60)}"


def job_details(job: Job, *, local: bool = False) -> Reply:
    """The Details of a job; `local` (the terminal, on the bot's machine) adds the file."""
    request = job.request
    fields = [
        ("State", job.state.value + (f" — {job.failure}" if job.failure else "")),
        ("Prompt", short(request.prompt, 900)),
        (
            "Size",
            f"{request.resolution}, {request.num_frames} frames @ "
            f"{request.frames_per_second:g} fps",
        ),
        ("Quoted", f"{Money(job.quoted_nanos)} ({job.quoted_megapixels} MP)"),
        (
            "Options",
            f"quality {request.video_quality.value}, write {request.video_write_mode.value}"
            f", audio {'on' if request.generate_audio else 'off'}, guidance "
            f"{request.guidance_scale:g}, ingredient {request.ingredient_strength:g}, "
            f"reference {request.reference_strength:g}",
        ),
    ]
    fields.append(("Created", job_time(job.created_at)))
    if job.finished_at is not None:
        minutes, seconds = divmod(int((job.finished_at - job.created_at).total_seconds()), 60)
        took = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        fields.append(("Finished", f"{job_time(job.finished_at)} ({took} after)"))
    if request.seed is not None:
        fields.append(("Requested seed", str(request.seed)))
    if job.draft and job.final_nanos is not None:
        fields.append(("Draft", f"its final at full size: {Money(job.final_nanos)}"))
    if job.final_of is not None:
        fields.append(("Final of", f"draft `{job.final_of}`"))
    if job.cancel_requested_at is not None and not job.is_final:
        fields.append(("Cancel", stop_asked_text(job)))
    if job.simulated and job.is_final:
        fields.append(("Charged", "nothing (simulated run)"))
    elif job.captured_nanos is not None:
        fields.append(("Charged", str(Money(job.captured_nanos))))
    elif job.charge_nanos is not None and job.state is JobState.SUCCEEDED:
        fields.append(("To charge", f"{Money(job.charge_nanos)} once you have the video (held)"))
    elif job.charge_nanos is not None:
        fields.append(("Charged", "nothing (the video never reached you)"))
    if job.charge_nanos is not None or job.captured_nanos is not None:
        fields.append(("Billed by fal", _billed(job)))
        if job.probed_nanos is not None:
            probed, mp = str(Money(job.probed_nanos)), job.probed_megapixels
            fields.append(("Probed video", probed if mp is None else f"{probed} ({mp} MP)"))
        if job.uncharged_nanos:
            fields.append(("Billed above the hold", f"{Money(job.uncharged_nanos)}, not charged"))
    if job.result:
        if job.result.seed is not None:
            fields.append(("Seed", str(job.result.seed)))
        if job.result.rendered:
            r = job.result.rendered
            fields.append(
                (
                    "Rendered",
                    f"{r.width}x{r.height}, {r.num_frames} frames, {r.duration_seconds:.2f} s",
                )
            )
        if job.origin.delivered_via in _ROUTES:
            fields.append(("Delivered", _ROUTES[job.origin.delivered_via]))
        if local and job.result.video_path and job.purged_at is None:
            fields.append(("Video file", job.result.video_path))
    if local and job.origin.out_path:
        fields.append(("Saved to (--out)", job.origin.out_path))
    if job.purged_at is not None:
        fields.append(("Files", f"sheet and video removed {job.purged_at:%Y-%m-%d} (retention)"))
    if job.simulated:
        fields.append(("Note", "simulated run, not charged"))
    return Reply(text=f"Job `{job.id}`", fields=tuple(fields), job_id=job.id)


_ROUTES = {
    "thread": "in the job's thread",
    "link": "as a link in the job's thread (the upload was refused)",
    "direct": "in a direct message (the channel refused the bot)",
    "direct_link": "as a link in a direct message (the channel refused the bot)",
    "file": "to a file",
}
