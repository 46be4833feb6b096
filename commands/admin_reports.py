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
from bot.reports.chart import MAX_SERIES, render_chart
from bot.reports.export import prune_reports, write_csv
from bot.reports.usage import POOL, summarize
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
    rows = summarize(entries)
    spent = Money(sum(r.spent.nanos for r in rows))
    lines = []
    for row in rows[:MAX_LINES]:
        who = row.user_id if row.user_id == POOL else f"<@{row.user_id}>"
        granted = f" · {row.granted} granted" if row.granted else ""
        lines.append(
            f"{who}: {row.spent} spent · {row.held} in flight · {row.videos} videos{granted}"
        )
    if len(rows) > MAX_LINES:
        lines.append(
            f"…and {len(rows) - MAX_LINES} more "
            f"(`{invocation.actor.platform.command('admin export')}` has everyone)."
        )
    head = f"Spend {PERIOD_WORDS[period]} ({tz.key}): "
    head += f"{spent} spent in total." if rows else "nothing yet."
    chart_since = since or min((e.effective_at for e in entries), default=now - timedelta(days=1))
    chart_until = until or now
    path = reports_dir(services) / file_name("usage", scope, period, now, "png")
    names = await _names(entries, services)
    await asyncio.to_thread(prune_reports, path.parent)
    await asyncio.to_thread(
        render_chart,
        entries,
        since=chart_since,
        until=chart_until,
        tz=tz,
        title=f"Spend {PERIOD_WORDS[period]}",
        path=path,
        names=names,
    )
    data: JSONObject = {
        "period": period,
        "timezone": tz.key,
        "spent_usd": usd(spent),
        "users": [
            {
                "user_id": row.user_id,
                "spent_usd": usd(row.spent),
                "held_usd": usd(row.held),
                "granted_usd": usd(row.granted),
                "videos": row.videos,
            }
            for row in rows
        ],
    }
    return Reply(text="\n".join([head, *lines]), file=path, data=data)


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
