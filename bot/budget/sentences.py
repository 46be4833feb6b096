"""What people read about their caps: a request too big for one video, a refused hold, and
the once-a-period heads-up."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.budget.limits import RATE_WINDOW, CapStatus
from bot.budget.periods import describe_reset
from bot.money import Money
from bot.ports import HoldOutcome, Limit, Throttled


def reset_of(limit: Limit, now: datetime, tz: ZoneInfo) -> str:
    """When the limit resets, in its own timezone (else `tz`): "resets 00:00 UTC (in 3 h)"."""
    return describe_reset(limit.resets_at, now, limit.timezone or tz)


def too_big(cost: Money, ceiling: Money) -> str:
    return (
        f"This request costs {cost.with_exact()}, above the {ceiling.with_exact()} "
        "limit for one video. Try fewer frames or a smaller resolution."
    )


def refusal(cost: Money, outcome: HoldOutcome, now: datetime, tz: ZoneInfo) -> str:
    """The sentence for a refused hold (`tz`: for a limit that names no timezone)."""
    if outcome.throttled is Throttled.IN_FLIGHT:
        return (
            f"You already have {outcome.count} videos in flight, the most allowed here at "
            "once. Wait for one to finish or cancel one (`history` lists them)."
        )
    if outcome.throttled is Throttled.RATE:
        wait = "a minute"
        if outcome.oldest_recent is not None:
            left = outcome.oldest_recent + RATE_WINDOW - now
            wait = f"{max(1, math.ceil(left.total_seconds()))} s"
        return (
            f"You have started {outcome.count} videos in the last minute, the most allowed "
            f"here. Try again in {wait}."
        )
    limit, usage = outcome.blocked_by, outcome.usage
    assert limit is not None and usage is not None
    room = max(limit.limit - usage.used, Money.zero())
    granted = f", {usage.granted} granted" if usage.granted else ""
    # "costs $0.40 but has $0.40 left" would read as wrong: when cents hide the gap, be exact.
    exact = str(cost) == room.room_text()
    shown_cost = cost.exact_text() if exact else str(cost)
    shown_room = room.exact_text() if exact else room.room_text()
    return (
        f"This video costs {shown_cost}, but {limit.name} has {shown_room} left "
        f"({limit.limit} cap, {usage.spent.used_text()} spent, "
        f"{usage.held.used_text()} in flight{granted}); "
        f"it {reset_of(limit, now, tz)}."
    )


def alert_text(status: CapStatus, now: datetime, tz: ZoneInfo) -> str:
    limit, used = status.limit, status.usage.used
    share = used.nanos * 100 // limit.limit.nanos
    return (
        f"Heads-up: {limit.name} is {share}% used ({used.used_text()} of {limit.limit}, "
        f"{status.remaining.room_text()} left); it {reset_of(limit, now, tz)}."
    )
