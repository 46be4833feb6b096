"""Spend per user from ledger entries: captured, still held, granted and videos made.

Pure functions over `Entry` lists. The chart (`bot.reports.chart`) and the CSV export
(`bot.reports.export`) draw on the same entries. Amounts stay integer nano-dollars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.money import Money
from bot.ports import Entry, EntryKind

POOL = "(team pool)"
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
