"""Job events: what the runner tells the adapter that started a job.

Adapters render these (status message edits, the final post); they never decide prices,
budgets or job states.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.money import Money


@dataclass(frozen=True, slots=True)
class Held:
    """Money is held and the job is on its way to fal."""

    cost: Money


@dataclass(frozen=True, slots=True)
class Queued:
    """Waiting in fal's queue: `position` as fal counts it (0-based: 0 = next to start), and
    whole minutes since the submit (None when unknown)."""

    position: int | None
    waited_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Running:
    elapsed_seconds: float
    log_line: str | None = None
    # A rough share done in [0, 1] when the logs let us tell; None when unknown.
    fraction: float | None = None


@dataclass(frozen=True, slots=True)
class Succeeded:
    video: Path
    cost: Money
    remaining: Money | None  # the requester's tightest remaining budget, None if uncapped


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str
    refunded: Money


@dataclass(frozen=True, slots=True)
class StopAsked:
    """A cancel while fal renders: fal was asked to stop, and `held` stays held until the job
    ends (charged if the video comes anyway, released if fal stops). Not an ending."""

    held: Money


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The job ended cancelled: fal will not render it, and `refunded` (the hold) is released."""

    refunded: Money


JobEvent = Held | Queued | Running | StopAsked | Succeeded | Failed | Cancelled
