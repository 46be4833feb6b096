"""The one post that carries a request's takes: each numbered with its seed, with its own
Final (drafts) and Reroll buttons, and the file of each in take order; a take that failed or
was cancelled has its line too, with its reason and what went back to the budget."""

from __future__ import annotations

from collections.abc import Sequence

from bot.events import Succeeded
from bot.jobs.record import Job, JobState
from bot.model import Button, ButtonAction, Reply
from bot.money import Money
from commands.render import SIMULATED_NOTE, short, take_label


def take_line(job: Job, event: Succeeded) -> str:
    """ "**Take 2/4 · seed 1235** · 768x448 · $0.101115 charged" (the seed fal rendered)."""
    label = take_label(job) or f"job {job.id}"
    seed = job.result.seed if job.result else None
    if seed is not None and seed != job.request.seed:
        label = f"{label.rsplit(' · seed ', 1)[0]} · seed {seed}"
    rendered = job.result.rendered if job.result else None
    size = f"{rendered.width}x{rendered.height}" if rendered else str(job.request.resolution)
    cost = "not charged (simulated)" if job.simulated else f"{event.cost} charged"
    return f"**{label}** · {size} · {cost} · job `{job.id}`"


def ended_line(job: Job) -> str:
    """ "❌ **Take 2/4 · seed 1235** · failed: <reason> · $0.10 released back to your budget"."""
    label = take_label(job) or f"job {job.id}"
    released = f"{Money(job.quoted_nanos)} released"  # its hold, as its own notice says
    if job.state is JobState.CANCELLED:
        return f"⏹️ **{label}** · cancelled · {released} back to your budget"
    why = short(job.failure or "it could not be made", 300)
    return f"❌ **{label}** · failed: {why} · {released} back to your budget · job `{job.id}`"


def take_buttons(job: Job) -> tuple[Button, ...]:
    """Final (a draft's) and Reroll, each naming its take."""
    k = job.take or 1
    buttons = []
    if job.draft and job.final_nanos is not None:
        buttons.append(Button(ButtonAction.FINAL, job.id, f"Final {k} ({Money(job.final_nanos)})"))
    buttons.append(Button(ButtonAction.REROLL, job.id, f"Reroll {k} ({Money(job.quoted_nanos)})"))
    return tuple(buttons)


def takes_reply(takes: Sequence[tuple[Job, Succeeded]], ended: Sequence[Job] = ()) -> Reply:
    """The post for the finished takes, with a line for every take in take order: the finished
    ones, and those in `ended` (failed, cancelled: each also said so on its own)."""
    first = min((job for job, _ in takes), key=lambda job: job.take or 1)
    count = len(first.take_ids) or 1
    done = len(takes)
    ready = (
        f"your {done} takes are ready"
        if done == count
        else f"{done} of your {count} takes are ready"
    )
    text = f"🎬 <@{first.origin.user_id}> {ready}: **{short(first.request.prompt)}**"
    lines = [(job.take or 1, take_line(job, event)) for job, event in takes]
    lines += [(job.take or 1, ended_line(job)) for job in ended]
    text += "".join(f"\n{line}" for _, line in sorted(lines, key=lambda pair: pair[0]))
    if first.draft and first.final_nanos is not None:
        final = Money(first.final_nanos)
        text += f"\nDrafts: a take's Final makes it at full size with its seed, for {final}."
    budget = next((e.remaining for _, e in reversed(takes) if e.remaining is not None), None)
    if budget is not None:
        text += f"\nBudget left: {budget.room_text()}"
    if first.simulated:
        text += f"\n{SIMULATED_NOTE}"
    buttons = tuple(button for job, _ in takes for button in take_buttons(job))
    return Reply(text=text, buttons=buttons, ephemeral=False, job_id=first.id)
