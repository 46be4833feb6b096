"""Budget periods: windows that reset at local midnight in a configured timezone.

Windows are computed on the local calendar and converted to UTC, so a day that has 23 or 25
hours across a daylight-saving change still resets exactly at local midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.ports.policy import Period


def window(period: Period, now: datetime, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """(start, next reset) in UTC of the period containing `now`; (None, None) for "none"."""
    if period == "none":
        return None, None
    local = now.astimezone(tz).date()
    if period == "day":
        start, end = local, local + timedelta(days=1)
    elif period == "week":  # weeks start on Monday (ISO)
        start = local - timedelta(days=local.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = local.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return _midnight(start, tz), _midnight(end, tz)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # fold=0 picks the first of two ambiguous local times; zoneinfo resolves a missing
    # midnight (a DST jump at 00:00) forward, which is the moment the new day really begins.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def describe_reset(resets_at: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """ "resets tomorrow 00:00 Europe/Paris (in 5 h 12 min)", "resets Mon 7 Dec 00:00 UTC",
    or "never resets": a day a person reads, the countdown only within a day."""
    if resets_at is None:
        return "never resets"
    local, today = resets_at.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    day = {0: "today", 1: "tomorrow"}.get(days) or _date(local, today)
    when = f"resets {day} {local:%H:%M} {tz.key}"
    left = resets_at - now
    if left >= timedelta(days=1):
        return when
    hours, minutes = divmod(max(0, int(left.total_seconds()) // 60), 60)
    return f"{when} (in {f'{hours} h {minutes} min' if hours else f'{minutes} min'})"


def _date(local: datetime, today: date) -> str:
    """ "Mon 7 Dec", with the year when it is not this one."""
    shown = f"{local:%a} {local.day} {local:%b}"
    return shown if local.year == today.year else f"{shown} {local.year}"
