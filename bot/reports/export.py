"""The files a report leaves behind: the ledger entries as CSV, and the pruning of every report
file (chart or CSV) once a day old.

Both do blocking file work, so callers run them in a thread (`asyncio.to_thread`). Amounts are
written as exact dollars, never through a float. Besides each entry's `amount_usd`, the CSV has
its signed `held_delta`, `spent_delta` and `granted_delta` (bot.reports.deltas): summed over the
rows, they are the held, spent and granted that `budget` shows for the period.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.ports import Entry
from bot.reports.deltas import deltas
from bot.reports.usage import POOL

REPORT_MAX_AGE_SECONDS = 24 * 3600

CSV_COLUMNS = [
    "entry_id",
    "kind",
    "user_id",
    "ref",
    "amount_usd",
    "held_delta",
    "spent_delta",
    "granted_delta",
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
        for e, change in deltas(entries):
            writer.writerow(
                [
                    e.id,
                    e.kind.value,
                    _cell(e.user_id or POOL),
                    _cell(e.ref),
                    e.amount.exact_str(),
                    change.held.exact_str() if change.held is not None else "",
                    change.spent.exact_str(),
                    change.granted.exact_str(),
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
