"""The billing client (aiohttp) against the simulated fal's platform API (/v1): fal's documented
shapes, every page, Decimal money, and the admin key checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.errors import BillingUnavailable
from bot.fal.billing_api import FalBillingApi
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.platform_api import Billed, api_url
from bot.money import Money

MODEL = "fal-ai/ltx-2.3-quality/ingredient"
NOW = datetime.now(UTC)


@pytest.fixture
async def platform(tmp_path) -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(data_dir=tmp_path / "fal", admin_key="admin-secret") as server:
        yield server


def client(fal: SimulatedFal, key: str = "admin-secret") -> FalBillingApi:
    return FalBillingApi(api_url=api_url(fal), admin_key=key, verify=fal.ssl_context())


def bill(fal: SimulatedFal, n: int, units: int = 5, *, at: datetime = NOW) -> list[Billed]:
    lines = [
        Billed(f"req-{i}", MODEL, at - timedelta(seconds=i), Decimal(units), fal.unit_price)
        for i in range(n)
    ]
    fal.billed += lines
    return lines


async def test_every_billing_event_across_pages_with_exact_money(platform, monkeypatch):
    monkeypatch.setattr("bot.fal.billing_api.PAGE", 3)  # 7 lines: three pages
    bill(platform, 7)
    bill(platform, 1, at=NOW - timedelta(days=3))  # outside the window asked
    api = client(platform)
    try:
        events = await api.billing_events(
            endpoint_id=MODEL, start=NOW - timedelta(days=1), end=NOW + timedelta(seconds=1)
        )
    finally:
        await api.aclose()
    assert sorted(e.request_id for e in events) == [f"req-{i}" for i in range(7)]
    first = next(e for e in events if e.request_id == "req-0")
    assert first.units == Decimal(5) and first.unit_price == Decimal("0.0024075")
    assert first.cost == Money.usd("0.0120375") and first.at.tzinfo is not None


async def test_usage_per_day_and_the_unit_price(platform):
    yesterday = (NOW - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    bill(platform, 2, units=4, at=yesterday)
    bill(platform, 1, units=1, at=yesterday - timedelta(days=1))
    api = client(platform)
    try:
        totals = await api.usage(endpoint_id=MODEL, start=yesterday - timedelta(days=2), end=NOW)
        price = await api.unit_price(MODEL)
        unknown = await api.unit_price("fal-ai/other")
    finally:
        await api.aclose()
    assert [(t.endpoint_id, t.day, t.quantity, t.cost) for t in totals] == [
        (MODEL, (yesterday - timedelta(days=1)).date(), Decimal(1), Money.usd("0.0024075")),
        (MODEL, yesterday.date(), Decimal(8), Money.usd("0.01926")),
    ]
    assert price is not None and (price.unit_price, price.currency) == (Decimal("0.0024075"), "USD")
    assert unknown is None


async def test_a_key_that_is_not_the_admin_key_is_refused_in_a_sentence(platform):
    api = client(platform, key="plain-fal-key")
    try:
        with pytest.raises(BillingUnavailable, match="LTXBOT_FAL_ADMIN_KEY"):
            await api.unit_price(MODEL)
    finally:
        await api.aclose()
