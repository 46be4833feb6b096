"""A job event as the terminal's progress line says it: a short status, the share done and an
estimate of the time left when they are known. Both the live line and the plain one read it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Cancelled, Failed, Held, JobEvent, Queued, Running, StopAsked, Succeeded
from bot.jobs.record import Job
from bot.money import Money
from commands.render import ordinal


@dataclass(frozen=True, slots=True)
class Step:
    """What the progress line shows for one event; `ended` once the job is over."""

    status: str
    fraction: float | None = None
    seconds_left: float | None = None
    ended: bool = False

    def percent(self) -> str:
        return "" if self.fraction is None else f"{self.fraction * 100:3.0f}%"

    def time_left(self) -> str:
        if self.seconds_left is None:
            return ""
        return f"~{duration(max(1.0, self.seconds_left))} left"  # never "~0 s" before the end

    def plain(self) -> str:
        """The line without a bar, for a log or a pipe: "rendering · 38% · ~12 s left · ..."."""
        share = "" if self.ended else self.percent().strip()
        parts = [self.status.split(" · ", 1)[0], share, self.time_left()]
        parts.append(self.status.split(" · ", 1)[1] if " · " in self.status else "")
        return " · ".join(part for part in parts if part)


def step(job: Job, event: JobEvent) -> Step:
    """The words for `event` of `job`."""
    match event:
        case Held():
            return Step("waiting for fal")
        case Queued(position=position, waited_minutes=waited):
            return Step(in_line(position, waited))
        case Running(elapsed_seconds=elapsed, log_line=log, fraction=fraction):
            status = "SIMULATED rendering" if job.simulated else "rendering"
            if job.cancel_requested_at is not None:
                status += " · stop asked"
            if log:
                status += f" · {' '.join(log.split())}"
            return Step(status, fraction, _seconds_left(elapsed, fraction))
        case StopAsked(held=held):
            # The bill is fal's, never above the hold (bot.jobs.billing).
            anyway = "nothing is charged" if job.simulated else f"up to {held} is charged"
            return Step(f"Asked fal to stop · if it finishes anyway, {anyway}")
        case Succeeded(cost=cost):
            spent = "nothing charged (simulated)" if job.simulated else f"{cost} charged"
            if job.cancel_requested_at is not None:
                spent = f"fal finished before it could stop · {spent}"
            return Step(f"done · {spent}", 1.0, ended=True)
        case Failed(refunded=refunded):
            return Step(f"failed · {refunded} released", ended=True)
        case Cancelled(refunded=refunded):
            return Step(f"cancelled · {refunded} released", ended=True)
    return Step(f"{Money(job.quoted_nanos)} held")


def in_line(position: int | None, waited_minutes: int | None) -> str:
    """fal's 0-based queue position as a person reads it: "next in line", "2nd in line"
    (every wording has "in line")."""
    if position is None:
        where = "in line at fal"
    else:
        where = "next in line" if position == 0 else f"{ordinal(position + 1)} in line"
    if not waited_minutes:
        return where
    return f"{where} · waited {duration(waited_minutes * 60)}"


def duration(seconds: float) -> str:
    """ "12 s", "3 min", "1 h 5 min": coarse, as an estimate deserves."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _seconds_left(elapsed: float, fraction: float | None) -> float | None:
    """At the pace so far; unknown until a second of rendering and some share done."""
    if fraction is None or not 0 < fraction < 1 or elapsed < 1:
        return None
    return elapsed * (1 - fraction) / fraction
