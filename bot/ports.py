"""The interfaces the core needs from the outside world.

Storage implements `Ledger` and `JobStore`; `bot.fal.gateway` implements `Gateway`; each
adapter implements `Poster`. Method names speak the domain (hold, capture, release), with
keyword-only arguments, in the manner of slack_sdk's installation store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.events import JobEvent
from bot.jobs.record import Job, JobState
from bot.model import Platform, Reply
from bot.money import Money

Clock = Callable[[], datetime]  # returns an aware UTC datetime


# --- the ledger -----------------------------------------------------------------------------


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


# --- job records ----------------------------------------------------------------------------


class JobStore(Protocol):
    async def insert(self, job: Job) -> None: ...

    async def get(self, job_id: str) -> Job | None: ...

    async def replace(self, job: Job) -> bool:
        """Store `job` only if the stored version is `job.version - 1` (optimistic lock)."""
        ...

    async def in_states(self, states: Iterable[JobState]) -> list[Job]: ...

    async def for_user(
        self, *, platform: Platform, scope: str, user_id: str, limit: int = 10
    ) -> list[Job]:
        """Newest first."""
        ...

    async def by_fal_request_id(self, request_id: str) -> Job | None: ...


# --- fal ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FalStatus:
    """One look at a queued request."""

    state: str  # "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED"
    queue_position: int | None = None
    logs: tuple[str, ...] = ()
    error: str | None = None  # set on COMPLETED when the run failed


@dataclass(frozen=True, slots=True)
class FalResult:
    payload: dict[str, Any]
    billable_units: str | None


class Gateway(Protocol):
    simulated: bool

    async def upload(self, data: bytes, *, content_type: str, file_name: str) -> str:
        """Put the sanitised sheet in fal storage; returns the URL fal will read."""
        ...

    async def submit(self, arguments: dict[str, Any], *, webhook_url: str | None) -> str:
        """Queue the request; returns fal's request id. Never submits twice for one call."""
        ...

    async def status(self, request_id: str) -> FalStatus:
        """One look at the request (transient errors retried); raises GenerationFailed."""
        ...

    def follow(self, request_id: str) -> AsyncIterator[FalStatus]:
        """Status updates until COMPLETED (the last item yielded)."""
        ...

    async def result(self, request_id: str) -> FalResult:
        """The finished request's JSON and billed units; raises GenerationFailed."""
        ...

    async def cancel(self, request_id: str) -> bool:
        """True when fal confirms the request will not run (or did not)."""
        ...

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """Stream the video to `dest`; returns its size. Raises GenerationFailed."""
        ...


# --- the platforms --------------------------------------------------------------------------


class Poster(Protocol):
    """What an adapter does with a job's events. Built from the job's Origin alone, so it works
    after a restart without the interaction that started the job."""

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        """Show the event (create or edit the status message); returns the status message id."""
        ...

    async def deliver(self, job: Job, video: Path, event: JobEvent) -> str:
        """Post the finished video into the thread; returns the result message id."""
        ...

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        """Post a Reply (with its buttons) to a channel of the scope, outside any job: the
        admin channel's approval requests and pool alerts, a requester's decision. Returns the
        message id."""
        ...


# --- small shared records (installations, OAuth state, "already handled" claims) ------------


class KeyValueStore(Protocol):
    """Named records that may expire, and one-time claims. An adapter keeps its installations
    and its dedup marks here; a store shared by every replica makes a claim hold across them."""

    async def load(self, *, key: str) -> str | None:
        """The value stored under `key`, or None (also once it has expired)."""
        ...

    async def save(self, *, key: str, value: str, ttl_seconds: float | None = None) -> None:
        """Store or replace `value` under `key`; it disappears after `ttl_seconds` if given."""
        ...

    async def claim(self, *, key: str, value: str = "", ttl_seconds: float | None = None) -> bool:
        """Store `value` only if `key` is absent (or expired): True for the one caller that got
        it, however many race for it."""
        ...

    async def discard(self, *, key: str) -> bool:
        """Remove `key`; True if it was there (OAuth state is consumed this way, once)."""
        ...

    async def discard_prefix(self, *, prefix: str) -> int:
        """Remove every key starting with `prefix`; returns how many went."""
        ...
