"""What each ledger entry changes in a budget: signed held, spent and granted amounts whose sums
over a period's entries are the held, spent and granted that `budget` shows for it.

- HOLD: held +amount (the quoted price, in flight).
- CAPTURE: held -the whole hold (a capture closes it even when it charges less), spent +amount.
- RELEASE: held -the whole hold, spends nothing.
- GRANT / ADJUST: granted +amount (an adjustment is a negative grant).

A job's closing entry carries its hold's `effective_at` (see storage.ledger), so a period's
entries always hold both: the closing entry's held delta is read from the hold among them.
Pure functions over `Entry` lists; amounts stay integer nano-dollars.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.money import Money
from bot.ports import Entry, EntryKind


@dataclass(frozen=True, slots=True)
class Deltas:
    """One entry's signed change to held, spent and granted; `held` is None for a closing entry
    whose hold is not among the entries (never, for a period's entries: see above)."""

    held: Money | None
    spent: Money
    granted: Money


def deltas(entries: Iterable[Entry]) -> Iterator[tuple[Entry, Deltas]]:
    """Each entry with its deltas, in the order given."""
    entries = list(entries)
    holds = {e.ref: e.amount for e in entries if e.kind is EntryKind.HOLD}
    zero = Money.zero()
    for e in entries:
        if e.kind is EntryKind.HOLD:
            yield e, Deltas(held=e.amount, spent=zero, granted=zero)
        elif e.kind in (EntryKind.CAPTURE, EntryKind.RELEASE):
            hold = holds.get(e.ref)
            spent = e.amount if e.kind is EntryKind.CAPTURE else zero
            yield e, Deltas(held=-hold if hold is not None else None, spent=spent, granted=zero)
        else:  # GRANT or ADJUST
            yield e, Deltas(held=zero, spent=zero, granted=e.amount)
