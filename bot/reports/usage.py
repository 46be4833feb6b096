"""Spend per user from ledger entries: captured, still held, granted and videos made.

Pure functions over `Entry` lists. The chart (`bot.reports.chart`) and the CSV export
(`bot.reports.export`) draw on the same entries. Amounts stay integer nano-dollars. Counts go
by how each job's hold ended, as the ledger says: charged (captured), in flight (still held)
or released (failed, cancelled, simulated: not charged), so they agree with `budget`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.money import Money
from bot.ports import Entry, EntryKind

POOL = "(team pool)"
CLOSING = (EntryKind.CAPTURE, EntryKind.RELEASE)
GRANTS = (EntryKind.GRANT, EntryKind.ADJUST)


@dataclass(frozen=True, slots=True)
class UserUsage:
    user_id: str  # POOL for the whole scope (`pool_usage`)
    spent: Money
    held: Money
    granted: Money
    videos: int  # charged: holds closed by a capture
    in_flight: int = 0  # holds still open
    released: int = 0  # holds closed by a release: nothing charged


def summarize(entries: Iterable[Entry]) -> list[UserUsage]:
    """Per user: captured, still held, granted, videos; biggest spender first. Grants to the
    team pool are not a user's: `pool_usage` has them."""
    entries = [e for e in entries if e.user_id is not None]
    users = sorted({e.user_id for e in entries if e.user_id is not None})
    rows = [_usage(u, [e for e in entries if e.user_id == u]) for u in users]
    return sorted(rows, key=lambda r: (-r.spent.nanos, -r.held.nanos, r.user_id))


def pool_usage(entries: Iterable[Entry]) -> UserUsage:
    """The whole scope as the team pool's cap counts it (`budget`): everyone's captures and
    open holds, and the grants made to the pool itself."""
    entries = list(entries)
    everyone = _usage(POOL, [e for e in entries if e.kind not in GRANTS])
    granted = sum(e.amount.nanos for e in entries if e.kind in GRANTS and e.user_id is None)
    return UserUsage(
        POOL,
        everyone.spent,
        everyone.held,
        Money(granted),
        everyone.videos,
        everyone.in_flight,
        everyone.released,
    )


def _usage(who: str, entries: list[Entry]) -> UserUsage:
    ending: dict[str, EntryKind] = {e.ref: e.kind for e in entries if e.kind is EntryKind.RELEASE}
    ending |= {e.ref: e.kind for e in entries if e.kind is EntryKind.CAPTURE}  # a capture wins
    counts: dict[EntryKind | None, int] = defaultdict(int)
    spent = held = granted = 0
    for e in entries:
        if e.kind is EntryKind.CAPTURE:
            spent += e.amount.nanos
        elif e.kind is EntryKind.HOLD:
            counts[ending.get(e.ref)] += 1
            if e.ref not in ending:
                held += e.amount.nanos
        elif e.kind in GRANTS:
            granted += e.amount.nanos
    return UserUsage(
        who,
        Money(spent),
        Money(held),
        Money(granted),
        videos=counts[EntryKind.CAPTURE],
        in_flight=counts[None],
        released=counts[EntryKind.RELEASE],
    )
