"""`GET /v1/models/usage` of the simulated fal: its bill summed per time bucket, as fal
documents it (https://fal.ai/docs/platform-apis/v1/models/usage).

`timeframe` (minute, hour, day, week, month; chosen from the span when absent), `timezone`
(buckets start at local midnight there; the bucket is written with its offset), and
`bound_to_timeframe` (default true: start and end widened to whole buckets). One row per
endpoint, unit price and discount rate, so a day with two discount rates has two rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from bot.fal.simulated.platform_bill import UNIT, Billed
from bot.fal.simulated.wire import JSONObject

TIMEFRAMES = ("minute", "hour", "day", "week", "month")


def auto_timeframe(span: timedelta) -> str:
    """fal's documented auto-detection: minute (<2h), hour (<2d), day (<64d), week (<183d)."""
    for limit, name in ((timedelta(hours=2), "minute"), (timedelta(days=2), "hour")):
        if span < limit:
            return name
    return "day" if span < timedelta(days=64) else "week" if span < timedelta(days=183) else "month"


def bucket_start(moment: datetime, timeframe: str, zone: tzinfo) -> datetime:
    local = moment.astimezone(zone)
    if timeframe == "minute":
        return local.replace(second=0, microsecond=0)
    if timeframe == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if timeframe == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if timeframe == "month" else day


def next_bucket(start: datetime, timeframe: str) -> datetime:
    steps = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}
    if timeframe in steps:
        return start + steps[timeframe]
    if timeframe == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    ahead = start + timedelta(days=7 if timeframe == "week" else 1)
    return ahead.replace(hour=0)  # a local midnight, across a daylight-saving change too


def bound(
    start: datetime, end: datetime, timeframe: str, zone: tzinfo
) -> tuple[datetime, datetime]:
    """`bound_to_timeframe=true`: start at its bucket's start, end at the next bucket's start."""
    last = bucket_start(end, timeframe, zone)
    return bucket_start(start, timeframe, zone), end if last == end else next_bucket(
        last, timeframe
    )


def _number(value: Decimal) -> float:
    # JSON has one number type; a Decimal of a few digits turned to float prints as itself.
    return float(value)


def rows(billed: Iterable[Billed]) -> list[JSONObject]:
    """Usage line items: one per endpoint, unit price and discount rate."""
    groups: dict[tuple[str, Decimal, Decimal | None], list[Billed]] = defaultdict(list)
    for b in billed:
        groups[(b.endpoint_id, b.unit_price, b.percent_discount)].append(b)
    out: list[JSONObject] = []
    for (endpoint, price, discount), lines in sorted(groups.items(), key=lambda g: str(g[0])):
        subtotal = sum((b.subtotal for b in lines), Decimal(0))
        total = sum((b.total for b in lines), Decimal(0))
        out.append(
            {
                "endpoint_id": endpoint,
                "unit": UNIT,
                "quantity": _number(sum((b.units for b in lines), Decimal(0))),
                "unit_price": _number(price),
                "percent_discount": None if discount is None else _number(discount),
                "cost_subtotal": _number(subtotal),
                "cost_discount": _number(subtotal - total),
                "cost_total": _number(total),
                "cost": _number(total),  # deprecated by fal, still sent
                "currency": "USD",
            }
        )
    return out


def time_series(billed: Iterable[Billed], timeframe: str, zone: tzinfo) -> list[JSONObject]:
    """Buckets that had usage, oldest first: `{"bucket": local ISO 8601, "results": rows}`."""
    buckets: dict[datetime, list[Billed]] = defaultdict(list)
    for b in billed:
        buckets[bucket_start(b.at, timeframe, zone)].append(b)
    return [{"bucket": at.isoformat(), "results": [*rows(buckets[at])]} for at in sorted(buckets)]
