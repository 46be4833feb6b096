"""`admin usage` (spend per user and a PNG chart) and `admin export` (the ledger as CSV).

Both cover the current day, week or month in the scope's timezone, or all time. The files are
written off the event loop and handed to the adapter as `Reply.file`.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.budget.periods import window
from bot.budget.policy import parse_period
from bot.model import Invocation, JSONObject, Reply
from bot.money import Money
from bot.ports import Entry, EntryKind, Period
from bot.reports.chart import MAX_SERIES, ChartWindow, render_chart
from bot.reports.export import prune_reports, write_csv
from bot.reports.usage import UserUsage, pool_usage, summarize
from commands.admin import require_admin
from commands.context import Services
from commands.data import usd

MAX_LINES = 25
PERIOD_WORDS = {"day": "today", "week": "this week", "month": "this month", "none": "all time"}


def reports_dir(services: Services) -> Path:
    return services.settings.data_dir / "reports"


def file_name(prefix: str, scope: str, period: str, now: datetime, suffix: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", scope)
    return f"{prefix}-{safe}-{period}-{now:%Y%m%dT%H%M%S%f}.{suffix}"


async def _period_entries(
    invocation: Invocation, services: Services
) -> tuple[Period, ZoneInfo, datetime | None, datetime | None, list[Entry]]:
    actor = invocation.actor
    require_admin(actor)
    given = invocation.options.get("period")
    period = parse_period(None if given is None else str(given), default="month")
    tz = (await services.budgets.scope_policy(actor.scope_key)).tz
    since, until = window(period, services.clock(), tz)
    entries = await services.ledger.entries(scope=actor.scope_key, since=since, until=until)
    return period, tz, since, until, entries


async def _names(entries: list[Entry], services: Services) -> dict[str, str]:
    """Display names of the top spenders, from one of their jobs each (the ledger has ids)."""
    names: dict[str, str] = {}
    for row in summarize(entries)[:MAX_SERIES]:
        ref = next(
            (e.ref for e in entries if e.user_id == row.user_id and e.kind is EntryKind.HOLD), None
        )
        job = await services.jobs.get(ref) if ref else None
        if job is not None and job.origin.user_name:
            names[row.user_id] = job.origin.user_name
    return names


async def admin_usage(invocation: Invocation, services: Services) -> Reply:
    """Spend per user for the period, and a chart of spend over time (PNG)."""
    period, tz, since, until, entries = await _period_entries(invocation, services)
    scope, now = invocation.actor.scope_key, services.clock()
    rows, pool = summarize(entries), pool_usage(entries)
    lines = [usage_line(f"<@{row.user_id}>", row) for row in rows[:MAX_LINES]]
    if len(rows) > MAX_LINES:
        lines.append(
            f"…and {len(rows) - MAX_LINES} more "
            f"(`{invocation.actor.platform.command('admin export')}` has everyone)."
        )
    if entries:
        lines.append(usage_line("Team pool (everyone)", pool))
    head = f"Spend {PERIOD_WORDS[period]} ({tz.key}): "
    head += f"{pool.spent} spent in total." if entries else "nothing yet."
    chart_since = since or min((e.effective_at for e in entries), default=now - timedelta(days=1))
    chart_until = until or now
    path = reports_dir(services) / file_name("usage", scope, period, now, "png")
    names = await _names(entries, services)
    await asyncio.to_thread(prune_reports, path.parent)
    window = ChartWindow(chart_since, chart_until, tz, over_time=period != "none")
    await asyncio.to_thread(
        render_chart,
        entries,
        window=window,
        title=f"Spend {PERIOD_WORDS[period]}",
        path=path,
        names=names,
        cap=await _pool_cap(invocation, services, since),
    )
    data: JSONObject = {
        "period": period,
        "timezone": tz.key,
        "spent_usd": usd(pool.spent),
        "users": [usage_data(row) for row in rows],
        "pool": usage_data(pool),
    }
    return Reply(text="\n".join([head, *lines]), file=path, data=data)


async def _pool_cap(
    invocation: Invocation, services: Services, since: datetime | None
) -> Money | None:
    """The team pool's cap when it counts over the chart's period (a monthly cap is not drawn
    on a day's chart: the line would mean nothing there)."""
    actor = invocation.actor
    limits = await services.budgets.limits_for(actor.scope_key, actor.user_id, actor.roles)
    pool = next((limit for limit in limits if limit.user_id is None), None)
    return pool.limit if pool is not None and pool.since == since else None


def usage_line(who: str, row: UserUsage) -> str:
    """ "<@alice>: $0.40 spent (1 video) · $0.40 in flight (1 video) · 2 not charged"."""
    line = f"{who}: {row.spent} spent ({_videos(row.videos)})"
    line += f" · {row.held} in flight ({_videos(row.in_flight)})"
    if row.released:
        line += f" · {row.released} not charged (released)"
    return line + (f" · {row.granted} granted" if row.granted else "")


def _videos(count: int) -> str:
    return f"{count} video" if count == 1 else f"{count} videos"


def usage_data(row: UserUsage) -> JSONObject:
    return {
        "user_id": row.user_id,
        "spent_usd": usd(row.spent),
        "held_usd": usd(row.held),
        "granted_usd": usd(row.granted),
        "videos": row.videos,
        "in_flight": row.in_flight,
        "released": row.released,
    }


async def admin_export(invocation: Invocation, services: Services) -> Reply:
    """The ledger entries of the period as CSV: exact dollar amounts, and signed held, spent
    and granted deltas that add up to what `budget` shows (bot.reports.deltas)."""
    period, tz, _since, _until, entries = await _period_entries(invocation, services)
    scope, now = invocation.actor.scope_key, services.clock()
    path = reports_dir(services) / file_name("ledger", scope, period, now, "csv")
    await asyncio.to_thread(prune_reports, path.parent)
    await asyncio.to_thread(write_csv, entries, tz=tz, path=path)
    return Reply(
        text=f"Ledger {PERIOD_WORDS[period]}: {len(entries)} entries.",
        file=path,
        data={"period": period, "timezone": tz.key, "entries": len(entries)},
    )
