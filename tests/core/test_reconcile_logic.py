"""`bot.reports.reconcile`: the ledger beside fal's bill, matched by fal's request id."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

from bot.money import Money
from bot.ports import BilledRequest, UnitPrice, UsageTotal
from bot.reports.reconcile import Charge, reconcile

MODEL = "fal-ai/ltx-2.3-quality/ingredient"
HERE, THERE = "console:local", "discord:other"
PRICE = Decimal("0.0024075")
DAY = datetime(2026, 12, 1, 10, tzinfo=UTC)


def billed(request_id: str, megapixels: int, at: datetime = DAY) -> BilledRequest:
    cost = Money.usd(megapixels * PRICE)
    return BilledRequest(request_id, MODEL, at, Decimal(megapixels), PRICE, cost)


def charge(request_id: str, megapixels: int | None, scope: str = HERE, **kw: object) -> Charge:
    money = None if megapixels is None else Money.usd(megapixels * PRICE)
    state = str(kw.get("state", "delivered"))
    return Charge(f"job-{request_id}", request_id, scope, state, money)


def run(events, known, here=(), usage=(), fal_price=None):
    return reconcile(
        scope=HERE,
        billed=events,
        known={c.request_id: c for c in known},
        charged_here=list(here),
        usage=list(usage),
        fal_price=fal_price,
        our_price=PRICE,
    )


def test_each_line_lands_in_its_list_and_totals_add_up():
    ok, more, lost, cancelled, other, unbilled = (
        charge("a", 5),
        charge("b", 5),
        None,
        charge("d", None, state="cancelled"),
        charge("e", 5, scope=THERE),
        charge("f", 3),
    )
    events = [billed("a", 5), billed("b", 7), billed("c", 5), billed("d", 5), billed("e", 5)]
    known = [c for c in (ok, more, lost, cancelled, other) if c is not None]
    report = run(events, known, here=[ok, more, unbilled])
    assert [line.request_id for line in report.matched] == ["a"]
    assert [(m.request_id, m.difference) for m in report.mismatches] == [
        ("b", Money.usd(2 * PRICE))
    ]
    assert [(b.request_id, b.job_id) for b in report.billed_not_charged] == [
        ("c", None),
        ("d", "job-d"),
    ]
    assert "lost" in report.billed_not_charged[0].why
    assert "cancelled" in report.billed_not_charged[1].why
    assert [(c.request_id, c.charged) for c in report.charged_not_billed] == [
        ("f", Money.usd(3 * PRICE))
    ]
    assert report.other_scopes == 1
    assert report.fal_billed == Money.usd(22 * PRICE)  # a, b, c, d: this scope's and unknown
    assert report.charged == Money.usd(13 * PRICE)  # a, b, f
    assert not report.clean


def test_days_put_fal_usage_beside_its_lines_and_the_ledger():
    second = datetime(2026, 12, 2, 9, tzinfo=UTC)
    events = [billed("a", 5), billed("b", 5, at=second)]
    usage = [UsageTotal(MODEL, date(2026, 12, 1), Decimal(5), Money.usd(5 * PRICE))]
    report = run(events, [charge("a", 5), charge("b", 5)], usage=usage)
    first_day, second_day = report.days
    assert first_day.agrees and first_day.day == date(2026, 12, 1)
    assert second_day.fal_usage is None and not second_day.agrees
    assert second_day.charged == second_day.fal_lines == Money.usd(5 * PRICE)


def test_all_agree_and_a_different_unit_price_at_fal_is_not_clean():
    events = [billed("a", 5)]
    usage = [UsageTotal(MODEL, DAY.date(), Decimal(5), Money.usd(5 * PRICE))]
    same = UnitPrice(MODEL, PRICE, "megapixels", "USD")
    assert run(events, [charge("a", 5)], usage=usage, fal_price=same).clean
    dearer = UnitPrice(MODEL, Decimal("0.003"), "megapixels", "USD")
    assert not run(events, [charge("a", 5)], usage=usage, fal_price=dearer).clean


def test_a_discount_fal_gave_is_a_mismatch_that_says_so_and_usage_rows_add_per_day():
    discounted = dataclasses.replace(
        billed("a", 10), cost=Money.usd(8 * PRICE), percent_discount=Decimal(20)
    )
    rows = [  # fal's usage has one row per discount rate
        UsageTotal(MODEL, DAY.date(), Decimal(10), Money.usd(8 * PRICE)),
        UsageTotal(MODEL, DAY.date(), Decimal(5), Money.usd(5 * PRICE)),
    ]
    report = run([discounted, billed("b", 5)], [charge("a", 10), charge("b", 5)], usage=rows)
    (mismatch,) = report.mismatches
    assert mismatch.difference == Money.usd(-2 * PRICE) and "20 % off" in mismatch.why
    (day,) = report.days
    assert day.fal_usage == day.fal_lines == Money.usd(13 * PRICE) != day.charged
