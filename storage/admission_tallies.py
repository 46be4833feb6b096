"""What the admission batch decides with: one hold's request, and the tallies of what is
held so far as the batch's next hold must see them (storage.admission)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.money import Money
from bot.ports import HoldOutcome, Limit, Throttle, Throttled, Usage


@dataclass(slots=True)
class Request:
    """One hold waiting for its batch."""

    job_id: str
    scope: str
    user_id: str
    amount: Money
    limits: Sequence[Limit]
    at: datetime
    throttle: Throttle | None
    future: asyncio.Future[HoldOutcome] = field(repr=False)
    # Several jobs held all or nothing (job id, amount); empty: `job_id` alone. `amount` is
    # then their total.
    parts: tuple[tuple[str, Money], ...] = ()

    @property
    def holds(self) -> tuple[tuple[str, Money], ...]:
        """Every (job id, amount) this request writes."""
        return self.parts or ((self.job_id, self.amount),)


UsageKey = tuple[str, datetime | None, str | None]  # scope, window start, user (None: pool)


def key(limit: Limit) -> UsageKey:
    return (limit.scope, limit.since, limit.user_id)


@dataclass(slots=True)
class Tallies:
    """What is held so far, as the batch's next hold must see it."""

    usage: dict[UsageKey, list[int]]  # spent, held, granted
    held_jobs: set[str]
    in_flight: dict[tuple[str, str], int]
    recent: dict[tuple[str, str], list[datetime]]

    def refusal(self, request: Request) -> HoldOutcome | None:
        throttle, who = request.throttle, (request.scope, request.user_id)
        wanted = len(request.holds)  # every part counts as a job in flight and a recent hold
        if throttle is not None:
            if throttle.max_open is not None:
                count = self.in_flight.get(who, 0)
                if count + wanted > throttle.max_open:
                    return HoldOutcome(admitted=False, throttled=Throttled.IN_FLIGHT, count=count)
            if throttle.max_recent is not None and throttle.recent_since is not None:
                if throttle.max_recent <= 0:
                    return HoldOutcome(admitted=False, throttled=Throttled.RATE, count=0)
                since = throttle.recent_since
                times = sorted((t for t in self.recent.get(who, ()) if t > since), reverse=True)
                if len(times) + wanted > throttle.max_recent:
                    # The newest hold that must age out before the parts fit (none can when
                    # there are more parts than the limit).
                    keep = throttle.max_recent - wanted
                    return HoldOutcome(
                        admitted=False,
                        throttled=Throttled.RATE,
                        count=throttle.max_recent,
                        oldest_recent=times[keep] if keep >= 0 else None,
                    )
        for limit in request.limits:
            spent, held, granted = self.usage[key(limit)]
            if spent + held - granted + request.amount.nanos > limit.limit.nanos:
                usage = Usage(spent=Money(spent), held=Money(held), granted=Money(granted))
                return HoldOutcome(admitted=False, blocked_by=limit, usage=usage)
        return None

    def add(self, request: Request) -> None:
        """Count an admitted hold wherever the ledger would count it."""
        parts = request.holds
        self.held_jobs.update(job_id for job_id, _ in parts)
        who = (request.scope, request.user_id)
        self.in_flight[who] = self.in_flight.get(who, 0) + len(parts)
        self.recent.setdefault(who, []).extend(request.at for _ in parts)
        for (scope, since, user_id), sums in self.usage.items():
            if scope != request.scope or (user_id is not None and user_id != request.user_id):
                continue
            if since is None or request.at >= since:
                sums[1] += request.amount.nanos
