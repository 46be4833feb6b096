"""Each ledger entry's signed change to held, spent and granted (bot.reports.deltas)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.money import Money
from bot.ports import Entry, EntryKind
from bot.reports.deltas import Deltas, deltas

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def entry(kind: EntryKind, ref: str, amount: str, user_id: str | None = "alice") -> Entry:
    return Entry(0, kind, "s", user_id, ref, Money.usd(amount), NOW, NOW)


def test_a_capture_closes_the_whole_hold_and_spends_what_it_charged() -> None:
    rows = [
        entry(EntryKind.HOLD, "j1", "0.40"),
        entry(EntryKind.CAPTURE, "j1", "0.30"),
        entry(EntryKind.HOLD, "j2", "0.25"),
        entry(EntryKind.RELEASE, "j2", "0"),
        entry(EntryKind.ADJUST, "g1", "-0.1", user_id=None),
    ]
    usd = Money.usd
    assert [d for _, d in deltas(rows)] == [
        Deltas(held=usd("0.40"), spent=usd("0"), granted=usd("0")),
        Deltas(held=usd("-0.40"), spent=usd("0.30"), granted=usd("0")),
        Deltas(held=usd("0.25"), spent=usd("0"), granted=usd("0")),
        Deltas(held=usd("-0.25"), spent=usd("0"), granted=usd("0")),
        Deltas(held=usd("0"), spent=usd("0"), granted=usd("-0.1")),
    ]


def test_a_closing_entry_without_its_hold_has_no_held_delta_rather_than_a_wrong_one() -> None:
    [(_, change)] = list(deltas([entry(EntryKind.CAPTURE, "j1", "0.30")]))
    assert change == Deltas(held=None, spent=Money.usd("0.30"), granted=Money.zero())
