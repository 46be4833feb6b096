"""The ledger: append-only money entries, the caps a hold must fit, and `Ledger` itself.

Storage implements `Ledger`. Method names speak the domain (hold, capture, release), with
keyword-only arguments, in the manner of slack_sdk's installation store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.money import Money


class EntryKind(StrEnum):
    GRANT = "grant"  # an admin adds room (negative amounts take it away: "adjust")
    ADJUST = "adjust"
    HOLD = "hold"  # at submission, the quoted cost
    CAPTURE = "capture"  # on success: closes the hold, spends at most the held amount
    RELEASE = "release"  # on failure, cancel, rejection: closes the hold, spends nothing


@dataclass(frozen=True, slots=True)
class Entry:
    """One append-only ledger line. `ref` is the job id (or a grant's own id)."""

    id: int
    kind: EntryKind
    scope: str  # "discord:<guild>", "slack:<team>", "console:local"
    user_id: str | None  # None on pool grants
    ref: str
    amount: Money
    effective_at: datetime  # the period it counts in: a job's entries all count at its hold
    created_at: datetime
    actor: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    """One cap a hold must fit. `user_id=None` is the scope's team pool."""

    name: str  # shown to the user: "your daily cap", "the team pool"
    scope: str
    user_id: str | None
    limit: Money
    since: datetime | None  # entries effective from here on count; None = all time
    resets_at: datetime | None
    timezone: ZoneInfo | None = None  # where its period resets at midnight (for messages)


@dataclass(frozen=True, slots=True)
class Usage:
    spent: Money  # captured
    held: Money  # open holds
    granted: Money  # grants and adjustments (may be negative)

    @property
    def used(self) -> Money:
        return self.spent + self.held - self.granted


@dataclass(frozen=True, slots=True)
class Throttle:
    """Limits on how many holds one user has, checked in the same step as the money."""

    max_open: int | None = None  # jobs in flight: holds not yet captured or released
    max_recent: int | None = None  # holds created after `recent_since` (a rate limit)
    recent_since: datetime | None = None


class Throttled(StrEnum):
    IN_FLIGHT = "in_flight"
    RATE = "rate"


@dataclass(frozen=True, slots=True)
class HoldOutcome:
    admitted: bool
    replayed: bool = False  # a hold for this job already existed: nothing new was written
    blocked_by: Limit | None = None
    usage: Usage | None = None  # of the blocking limit, before this request
    throttled: Throttled | None = None  # refused by a Throttle rather than by money
    count: int | None = None  # the throttled count (holds in flight, or recent holds)
    # For a rate refusal: when the count drops below the limit (the oldest that must age out).
    oldest_recent: datetime | None = None


class Ledger(Protocol):
    async def hold(
        self,
        *,
        job_id: str,
        scope: str,
        user_id: str,
        amount: Money,
        limits: Sequence[Limit],
        at: datetime,
        throttle: Throttle | None = None,
    ) -> HoldOutcome:
        """Atomically: write the hold only if every limit has room (used + amount <= limit)
        and the user is within the throttle's counts.

        Idempotent per job: a second call for the same job writes nothing and reports
        `replayed=True` with the first outcome's admission.
        """
        ...

    async def hold_many(
        self,
        *,
        holds: Sequence[tuple[str, Money]],
        scope: str,
        user_id: str,
        limits: Sequence[Limit],
        at: datetime,
        throttle: Throttle | None = None,
    ) -> HoldOutcome:
        """Atomically: one hold per (job id, amount), all written in one transaction or none.
        Decided as one request: the limits must have room for the total, the throttle for
        every job. Each hold is then captured or released on its own, by its job id.

        Idempotent: when one of the jobs is held already, nothing is written (`replayed`).
        """
        ...

    async def capture(self, *, job_id: str, amount: Money, at: datetime) -> bool:
        """Close the job's hold and spend `amount` (at most the held amount).

        Returns False when the hold was already closed (captured or released) or never made.
        """
        ...

    async def release(self, *, job_id: str, at: datetime, note: str | None = None) -> bool:
        """Close the job's hold spending nothing; False when already closed or never made."""
        ...

    async def grant(
        self,
        *,
        scope: str,
        user_id: str | None,
        amount: Money,
        at: datetime,
        actor: str,
        note: str,
    ) -> Entry:
        """Add room (negative: remove room) for a user, or the pool when user_id is None."""
        ...

    async def usage(self, *, scope: str, user_id: str | None, since: datetime | None) -> Usage:
        """Spent, held and granted for a user (or the whole pool) since a moment."""
        ...

    async def usages(
        self, *, scope: str, windows: Sequence[tuple[str | None, datetime | None]]
    ) -> list[Usage]:
        """`usage` of each (user_id, since) window of the scope, in order, read together."""
        ...

    async def entries(
        self,
        *,
        scope: str,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]: ...

    async def open_holds(self) -> list[str]:
        """Job ids whose hold is neither captured nor released."""
        ...
