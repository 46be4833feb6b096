"""The ledger beside fal's own bill: pure, no I/O (`commands.admin_reconcile` gathers both).

Lines are matched by fal's request id (a job carries it as `fal_request_id`). fal's billed lines
fall into: matched (charged what fal billed), amount mismatches (charged something else), and
billed but not charged (no job knows the request id, as when a submit's answer was lost, or the
job captured nothing, as when a cancel came too late and fal ran it anyway). Jobs of this scope
that captured money fal never billed are "charged but not billed". Jobs of other scopes that
match are only counted: one team's admin does not see another team's jobs. Per endpoint and
day, fal's usage totals stand beside the sum of its billing lines and of what was charged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.money import Money
from bot.ports import BilledRequest, UnitPrice, UsageTotal


@dataclass(frozen=True, slots=True)
class Charge:
    """What the ledger holds for one fal request: its job and what was captured (None: none)."""

    job_id: str
    request_id: str
    scope: str
    state: str
    charged: Money | None
    uncharged: Money | None = None  # billed above the hold: the team paid it, the budget not


@dataclass(frozen=True, slots=True)
class Line:
    """One request in the report; `fal` or `charged` is None on the side that lacks it."""

    request_id: str
    job_id: str | None
    fal: Money | None
    charged: Money | None
    why: str = ""

    @property
    def difference(self) -> Money:
        """fal's bill minus what was charged."""
        return (self.fal or Money(0)) - (self.charged or Money(0))


@dataclass(frozen=True, slots=True)
class DayTotal:
    endpoint_id: str
    day: date
    fal_usage: Money | None  # /models/usage; None when fal reported no total that day
    fal_lines: Money  # the sum of that day's billing events
    charged: Money  # what the ledger charged for those lines (every scope)

    @property
    def agrees(self) -> bool:
        return self.fal_usage == self.fal_lines == self.charged


@dataclass
class Reconciliation:
    matched: list[Line] = field(default_factory=list)
    billed_not_charged: list[Line] = field(default_factory=list)
    charged_not_billed: list[Line] = field(default_factory=list)
    mismatches: list[Line] = field(default_factory=list)
    days: list[DayTotal] = field(default_factory=list)
    other_scopes: int = 0  # fal lines that match jobs of other scopes (counted only)
    fal_price: UnitPrice | None = None
    our_price: Decimal = Decimal(0)

    @property
    def fal_billed(self) -> Money:
        lines = self.matched + self.mismatches + self.billed_not_charged
        return _sum(line.fal for line in lines)

    @property
    def charged(self) -> Money:
        lines = self.matched + self.mismatches + self.charged_not_billed
        return _sum(line.charged for line in lines)

    @property
    def clean(self) -> bool:
        lists = (self.billed_not_charged, self.charged_not_billed, self.mismatches)
        price_agrees = self.fal_price is None or self.fal_price.unit_price == self.our_price
        return not any(lists) and price_agrees and all(d.agrees for d in self.days)


def _sum(amounts: Iterable[Money | None]) -> Money:
    return Money(sum(a.nanos for a in amounts if a is not None))


def _unbilled_why(charge: Charge | None) -> str:
    if charge is None:
        return "no job has this request id (a submit whose answer was lost?)"
    return f"job {charge.job_id} is {charge.state} and captured nothing"


def reconcile(
    *,
    scope: str,
    billed: Sequence[BilledRequest],
    known: Mapping[str, Charge],
    charged_here: Sequence[Charge],
    usage: Sequence[UsageTotal],
    fal_price: UnitPrice | None,
    our_price: Decimal,
    billed_nearby: Iterable[str] = (),
) -> Reconciliation:
    """`known`: the ledger's charge for each billed request id it knows (any scope);
    `charged_here`: this scope's jobs that captured money in the window; `billed_nearby`: ids
    fal billed just outside the window (a job held on its last evening, billed after midnight,
    is not "charged but not billed")."""
    report = Reconciliation(fal_price=fal_price, our_price=our_price)
    lines: dict[tuple[str, date], int] = defaultdict(int)
    charged: dict[tuple[str, date], int] = defaultdict(int)
    for event in billed:
        key = (event.endpoint_id, event.at.date())
        lines[key] += event.cost.nanos
        charge = known.get(event.request_id)
        if charge is not None and charge.charged is not None:
            charged[key] += charge.charged.nanos
        if charge is not None and charge.scope != scope:
            report.other_scopes += 1
            continue
        job_id = charge.job_id if charge else None
        if charge is None or not charge.charged:
            line = Line(event.request_id, job_id, event.cost, None, _unbilled_why(charge))
            report.billed_not_charged.append(line)
        elif charge.charged == event.cost:
            report.matched.append(Line(event.request_id, job_id, event.cost, charge.charged))
        else:
            why = f"{charge.uncharged} above the hold was not charged" if charge.uncharged else ""
            if not why and event.percent_discount:
                why = f"fal took {event.percent_discount:f} % off its price for this account"
            line = Line(event.request_id, job_id, event.cost, charge.charged, why)
            report.mismatches.append(line)
    seen = {event.request_id for event in billed} | set(billed_nearby)
    for charge in charged_here:
        if charge.request_id not in seen and charge.charged:
            why = "fal has no billing line for this request in the window"
            line = Line(charge.request_id, charge.job_id, None, charge.charged, why)
            report.charged_not_billed.append(line)
    fal_usage: dict[tuple[str, date], int] = defaultdict(int)
    for total in usage:
        fal_usage[(total.endpoint_id, total.day)] += total.cost.nanos
    for key in sorted(set(lines) | set(fal_usage)):
        endpoint, day = key
        usage_total = Money(fal_usage[key]) if key in fal_usage else None
        report.days.append(
            DayTotal(endpoint, day, usage_total, Money(lines[key]), Money(charged[key]))
        )
    return report
