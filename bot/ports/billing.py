"""`FalBilling`: fal's own records of what it billed (`bot.fal.billing_api` implements it).

Read through fal's platform API with an ADMIN-scoped key, to reconcile the ledger with fal
(`bot.reports.reconcile`). Amounts are Money and Decimal: fal's JSON numbers are read as Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from bot.money import Money


@dataclass(frozen=True, slots=True)
class BilledRequest:
    """One line of fal's `GET /v1/models/billing-events`."""

    request_id: str
    endpoint_id: str
    at: datetime
    units: Decimal | None  # output_units (fal may send null)
    unit_price: Decimal | None  # before any discount
    cost: Money  # cost_estimate_nano_usd: the charge after discounts
    percent_discount: Decimal | None = None  # 10 = 10 % off; None when none applies


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """One row of a day of fal's `GET /v1/models/usage` (time_series): one endpoint at one unit
    price and discount rate, so a day may have several rows per endpoint."""

    endpoint_id: str
    day: date
    quantity: Decimal
    cost: Money  # cost_total: after discounts


@dataclass(frozen=True, slots=True)
class UnitPrice:
    """fal's `GET /v1/models/pricing` line for one endpoint."""

    endpoint_id: str
    unit_price: Decimal  # before account discounts
    unit: str
    currency: str


class FalBilling(Protocol):
    async def billing_events(
        self, *, endpoint_id: str, start: datetime, end: datetime
    ) -> list[BilledRequest]:
        """Every billed request of the endpoint from `start` to `end` (exclusive), all pages."""
        ...

    async def usage(self, *, endpoint_id: str, start: datetime, end: datetime) -> list[UsageTotal]:
        """The endpoint's totals per day (UTC) from `start` to `end` (exclusive)."""
        ...

    async def unit_price(self, endpoint_id: str) -> UnitPrice | None:
        """What fal says one unit of the endpoint costs (None when it names no price)."""
        ...

    async def aclose(self) -> None: ...
