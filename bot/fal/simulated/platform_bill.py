"""What the simulated fal billed: one `Billed` line per request that rendered, the source of its
platform API (`platform_api`, `platform_usage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.fal.simulated.jobs import SimJob
    from bot.fal.simulated.server import SimulatedFal

UNIT = "megapixels"
NANO = Decimal("0.000000001")


@dataclass(frozen=True, slots=True)
class Billed:
    """One request the simulated fal billed: when, how many units, at what price and discount."""

    request_id: str
    endpoint_id: str
    at: datetime
    units: Decimal
    unit_price: Decimal
    percent_discount: Decimal | None = None  # 10 = 10 % off

    @property
    def subtotal(self) -> Decimal:
        """Dollars before the discount (output_units x unit_price)."""
        return self.units * self.unit_price

    @property
    def total(self) -> Decimal:
        """Dollars charged, rounded up to the nano-dollar: `cost_total`."""
        off = (self.percent_discount or Decimal(0)) / 100
        return (self.subtotal * (1 - off)).quantize(NANO, rounding=ROUND_CEILING)

    @property
    def nanos(self) -> int:
        """`cost_estimate_nano_usd`: the same charge in nano-dollars."""
        return int(self.total / NANO)


def record_bill(fal: SimulatedFal, job: SimJob) -> None:
    """Bill a job that rendered: the units its result header sends (a plain number), else the
    units asked for."""
    if job.outcome is None or not job.outcome.ok or not job.outcome.billable_units:
        return
    units = Decimal(job.outcome.billable_units)
    if fal.faults.billable_units is not None and fal.faults.billable_units.isdigit():
        units = Decimal(fal.faults.billable_units)
    fal.billed.append(Billed(job.request_id, job.app_id, datetime.now(UTC), units, fal.unit_price))
