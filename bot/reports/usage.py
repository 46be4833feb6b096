"""Usage reports from ledger entries: spend per user, a PNG chart over time, a CSV export.

Pure functions over `Entry` lists; the PNG and CSV writers do file and CPU work, so callers run
them in a thread (`asyncio.to_thread`). Amounts stay integer nano-dollars; only the chart's
pixel positions are computed by matplotlib, from integer cents.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.money import Money
from bot.ports import Entry, EntryKind

POOL = "(team pool)"
MAX_SERIES = 8  # users drawn separately in the chart; the rest add up as "others"
REPORT_MAX_AGE_SECONDS = 24 * 3600
CLOSING = (EntryKind.CAPTURE, EntryKind.RELEASE)


@dataclass(frozen=True, slots=True)
class UserUsage:
    user_id: str  # POOL for grants to the team pool
    spent: Money
    held: Money
    granted: Money
    videos: int  # holds made (admitted requests)


def summarize(entries: Iterable[Entry]) -> list[UserUsage]:
    """Per user: captured, still held, granted, videos; biggest spender first."""
    entries = list(entries)
    closed = {e.ref for e in entries if e.kind in CLOSING}
    spent: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    granted: dict[str, int] = defaultdict(int)
    videos: dict[str, int] = defaultdict(int)
    users: set[str] = set()
    for e in entries:
        who = e.user_id if e.user_id is not None else POOL
        users.add(who)
        if e.kind is EntryKind.CAPTURE:
            spent[who] += e.amount.nanos
        elif e.kind is EntryKind.HOLD:
            videos[who] += 1
            if e.ref not in closed:
                held[who] += e.amount.nanos
        elif e.kind in (EntryKind.GRANT, EntryKind.ADJUST):
            granted[who] += e.amount.nanos
    rows = [
        UserUsage(u, Money(spent[u]), Money(held[u]), Money(granted[u]), videos[u]) for u in users
    ]
    return sorted(rows, key=lambda r: (-r.spent.nanos, -r.held.nanos, r.user_id))


def _cents(amount: int) -> int:
    return amount // 10_000_000


def _buckets(since: datetime, until: datetime) -> timedelta:
    span = until - since
    if span <= timedelta(days=2):
        return timedelta(hours=1)
    if span <= timedelta(days=92):
        return timedelta(days=1)
    return timedelta(days=7)


def render_chart(
    entries: Iterable[Entry],
    *,
    since: datetime,
    until: datetime,
    tz: ZoneInfo,
    title: str,
    path: Path,
    names: Mapping[str, str] | None = None,
) -> Path:
    """A stacked bar chart of captured spend per time bucket and user; writes a PNG (blocking:
    run it in a thread). Matplotlib is imported here, with the Agg backend, never on a screen."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    names = names or {}
    step = _buckets(since, until)
    count = max(1, -(-(until - since) // step))
    spend: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    for e in entries:
        if e.kind is EntryKind.CAPTURE and since <= e.effective_at < until:
            spend[e.user_id or POOL][int((e.effective_at - since) // step)] += e.amount.nanos
    ranked = sorted(spend, key=lambda u: -sum(spend[u]))
    series = {names.get(u, u): spend[u] for u in ranked[:MAX_SERIES]}
    if len(ranked) > MAX_SERIES:
        series["others"] = [sum(spend[u][i] for u in ranked[MAX_SERIES:]) for i in range(count)]

    figure = Figure(figsize=(9, 4.5), dpi=100)
    axes = figure.add_subplot()
    starts = [(since + i * step).astimezone(tz).replace(tzinfo=None) for i in range(count)]
    width = step / timedelta(days=1) * 0.9  # bar width in days, matplotlib's date unit
    bottom = [0] * count
    for label, values in series.items():
        cents = [_cents(v) for v in values]
        axes.bar(starts, cents, width=width, bottom=bottom, label=label, align="edge")
        bottom = [b + c for b, c in zip(bottom, cents, strict=True)]
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: f"${Decimal(str(value)) / 100:,.2f}")
    )
    axes.set_title(title)
    axes.set_ylabel("spent")
    axes.set_xlabel(f"time ({tz.key})")
    if series:
        axes.legend(loc="upper left", fontsize="small")
    else:
        axes.text(0.5, 0.5, "no spend in this period", ha="center", transform=axes.transAxes)
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


CSV_COLUMNS = [
    "entry_id",
    "kind",
    "user_id",
    "ref",
    "amount_usd",
    "effective_at_utc",
    "effective_at_local",
    "created_at_utc",
    "actor",
    "note",
]


def _cell(text: str | None) -> str:
    """Text as a spreadsheet shows it, never as a formula (=, +, -, @ would be evaluated)."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(entries: Iterable[Entry], *, tz: ZoneInfo, path: Path) -> Path:
    """The entries as CSV, exact dollar amounts (blocking: run it in a thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for e in entries:
            writer.writerow(
                [
                    e.id,
                    e.kind.value,
                    _cell(e.user_id or POOL),
                    _cell(e.ref),
                    e.amount.exact_str(),
                    e.effective_at.isoformat(),
                    e.effective_at.astimezone(tz).isoformat(),
                    e.created_at.isoformat(),
                    _cell(e.actor),
                    _cell(e.note),
                ]
            )
    return path


def prune_reports(folder: Path, now: float | None = None) -> int:
    """Delete reports older than a day (adapters upload them right after they are written)."""
    if not folder.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - REPORT_MAX_AGE_SECONDS
    removed = 0
    for old in folder.iterdir():
        if old.is_file() and old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)
            removed += 1
    return removed
