"""Neutral text for prices, job status and results, shared by every adapter."""

from __future__ import annotations

from bot.events import (
    Cancelled,
    Failed,
    Held,
    JobEvent,
    Queued,
    Running,
    StopAsked,
    Succeeded,
)
from bot.jobs.record import Job, JobState
from bot.model import Button, ButtonAction, Platform, Reply
from bot.money import Money
from bot.pricing import Quote

SIMULATED_NOTE = "SIMULATED: no FAL_KEY is set, so a local stand-in for fal made this video; nothing was charged."  # noqa: E501
BAR_WIDTH = 20
_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def price_line(quote: Quote) -> str:
    return (
        f"{quote.width}x{quote.height}, {quote.num_frames} frames = {quote.megapixels} MP "
        f"x ${quote.price_per_megapixel}/MP = {quote.cost.with_exact()}"
    )


def progress_bar(fraction: float | None) -> str:
    if fraction is None:
        return "▱" * BAR_WIDTH
    filled = max(0, min(BAR_WIDTH, round(fraction * BAR_WIDTH)))
    return "▰" * filled + "▱" * (BAR_WIDTH - filled)


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st, 22nd, ..."""
    suffix = "th" if number % 100 in (11, 12, 13) else _SUFFIXES.get(number % 10, "th")
    return f"{number}{suffix}"


def queue_line(position: int | None, waited_minutes: int | None) -> str:
    """Reads "2nd in fal's queue, waiting 3 min": fal's 0-based position as a person counts."""
    where = f"{ordinal(position + 1)} in fal's queue" if position is not None else "in fal's queue"
    if waited_minutes is None:
        return where
    if waited_minutes < 1:
        return f"{where}, waiting under a minute"
    hours, minutes = divmod(waited_minutes, 60)
    waited = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"{where}, waiting {waited}"


def short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_text(job: Job, event: JobEvent) -> str:
    """One status message body, edited in place as the job moves; its money line says what
    the ledger holds: "held" until the end, then "charged" or "released"."""
    head = f"🎬 **{short(job.request.prompt)}**\n{_size(job)} · {money_line(job, event)} · "
    head += f"job `{job.id}`"
    if (take := take_label(job)) is not None:
        head += f" · {take}"
    if job.simulated:
        head += "\n_simulated run: nothing will be charged_"
    match event:
        case Held():
            line = f"{progress_bar(0)} waiting for fal…"
        case Queued(position=position, waited_minutes=waited):
            line = f"{progress_bar(0)} {queue_line(position, waited)}"
        case Running(elapsed_seconds=elapsed, log_line=log, fraction=fraction):
            line = f"{progress_bar(fraction)} rendering · {elapsed:.0f} s"
            if log:
                line += f"\n`{short(log, 90)}`"
            if job.cancel_requested_at is not None:
                line += f"\n⏹️ {stop_asked_text(job)}"
        case StopAsked():
            line = f"⏹️ {stop_asked_text(job)}"
        case Succeeded(cost=charged):
            spent = "nothing charged" if job.simulated else f"{charged} charged"
            if job.cancel_requested_at is not None:
                spent = f"fal finished before it could stop · {spent}"
            line = f"{progress_bar(1)} done · {spent}"
        case Failed(reason=reason, refunded=refunded):
            line = f"❌ {reason}\n{refunded} released back to your budget."
        case Cancelled(refunded=refunded):
            line = f"⏹️ Cancelled. {refunded} released back to your budget."
        case _:
            line = ""
    return f"{head}\n{line}"


def take_label(job: Job) -> str | None:
    """ "Take 2/4 · seed 1235" for one of a request's takes, None for a lone job."""
    if job.take is None:
        return None
    return f"Take {job.take}/{len(job.take_ids)} · seed {job.request.seed}"


def money_line(job: Job, event: JobEvent) -> str:
    """The hold while the job runs; at its end what the ledger did with it."""
    match event:
        case Succeeded(cost=charged) if not job.simulated:
            return f"{charged} charged"
        case Succeeded():
            return f"{Money(job.quoted_nanos)} released"  # a simulated run is never charged
        case Failed(refunded=refunded) | Cancelled(refunded=refunded):
            return f"{refunded} released"
        case _:
            return f"{Money(job.quoted_nanos)} held"


def stop_asked_text(job: Job) -> str:
    """What a cancel while fal renders does: the hold stays until fal stops or finishes."""
    held, verb = Money(job.quoted_nanos), _delivered_verb(job)
    if job.simulated:
        return f"Asked fal to stop. If fal finishes anyway, the video is {verb} (nothing charged)."
    # "up to": the charge is fal's bill, never above the hold (bot.jobs.billing).
    return (
        f"Asked fal to stop. If fal finishes anyway, the video is {verb} and up to {held} charged."
    )


def _delivered_verb(job: Job) -> str:
    return "saved" if job.origin.platform is Platform.CONSOLE else "posted"


def _size(job: Job) -> str:
    size = job.request.resolution
    return f"{size} · {job.request.num_frames} frames @ {job.request.frames_per_second:g} fps"


def job_buttons(job: Job, reroll_price: Money | None = None) -> tuple[Button, ...]:
    """Cancel while the job can still stop (none once a stop is asked); Reroll and Details once
    it has ended, and a delivered draft's Final (priced at the final's default size)."""
    if job.state in {JobState.HELD, JobState.SUBMITTED, JobState.RUNNING}:
        if job.cancel_requested_at is not None:
            return ()
        return (Button(ButtonAction.CANCEL, job.id, "Cancel", danger=True),)
    price = reroll_price if reroll_price is not None else Money(job.quoted_nanos)
    reroll = Button(ButtonAction.REROLL, job.id, f"Reroll ({price})")
    details = Button(ButtonAction.DETAILS, job.id, "Details")
    # Offered with the draft's video (the result is posted before the job is DELIVERED).
    made = job.state in {JobState.SUCCEEDED, JobState.DELIVERED} and job.result is not None
    if job.draft and job.final_nanos is not None and made:
        final = Button(ButtonAction.FINAL, job.id, f"Final ({Money(job.final_nanos)})")
        return (final, reroll, details)
    return (reroll, details)


def failure_notice(job: Job, event: Failed) -> str:
    """A new message in the job's thread when it fails: editing the status message notifies
    nobody, so the requester is mentioned, with the reason and what went back to the budget."""
    what = "your video" if job.take in (None, 1) else f"**{take_label(job)}**"
    return (
        f"❌ <@{job.origin.user_id}> {what} could not be made: "
        f"**{short(job.request.prompt, 80)}**\n{event.reason}\n"
        f"{event.refunded} released back to your budget."
    )


def result_reply(job: Job, event: Succeeded) -> Reply:
    """The public post that carries the finished video."""
    result = job.result
    rendered = result.rendered if result else None
    fields: list[tuple[str, str]] = []
    if rendered:
        fields.append(("Size", f"{rendered.width}x{rendered.height}"))
        fields.append(("Frames", f"{rendered.num_frames} @ {rendered.frames_per_second:g} fps"))
        fields.append(("Duration", f"{rendered.duration_seconds:.2f} s"))
        fields.append(("Audio", "yes" if rendered.has_audio else "no"))
    if result and result.seed is not None:
        fields.append(("Seed", str(result.seed)))
    fields.append(("Cost", "simulated, not charged" if job.simulated else str(event.cost)))
    if event.remaining is not None:
        fields.append(("Budget left", event.remaining.room_text()))
    if result and result.expanded_prompt and result.expanded_prompt != job.request.prompt:
        fields.append(("Expanded prompt", short(result.expanded_prompt, 900)))
    text = f"🎬 <@{job.origin.user_id}> your video is ready: **{short(job.request.prompt)}**"
    if (take := take_label(job)) is not None:
        text += f"\n**{take}**"
    if job.draft and job.final_nanos is not None:
        final = Money(job.final_nanos)
        text += f"\nA draft: Final makes it at full size with the same seed, for {final}."
    if job.final_of is not None:
        text += f"\nThe final of draft `{job.final_of}`, with its seed."
    if (differs := rendered_difference(job)) is not None:
        text += f"\n{differs}"
    if job.cancel_requested_at is not None:
        text += "\nfal finished it before your cancel could stop it, so it is charged as warned."
    if job.simulated:
        text += f"\n{SIMULATED_NOTE}"
    return Reply(
        text=text,
        fields=tuple(fields),
        buttons=job_buttons(job),
        ephemeral=False,
        file=event.video,
        job_id=job.id,
    )


def rendered_difference(job: Job) -> str | None:
    """One line when fal rendered another size or frame count than asked; None when not."""
    rendered = job.result.rendered if job.result else None
    if rendered is None:
        return None
    asked, frames = job.request.size(), job.request.num_frames
    made, wanted = f"{rendered.width}x{rendered.height}", str(asked)
    if rendered.num_frames != frames:
        made, wanted = f"{made} x {rendered.num_frames} frames", f"{wanted} x {frames}"
    if made == wanted:
        return None
    units = job.billed_megapixels
    bill = "sent no readable bill" if units is None else f"billed {units} MP"
    return f"fal rendered {made} of the {wanted} asked, and {bill}"
