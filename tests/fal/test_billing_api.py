"""The billing client (aiohttp) against the simulated fal's platform API (/v1), and the simulated
API against fal's documented shapes (https://fal.ai/docs/platform-apis/v1/models/billing-events,
.../usage, .../pricing; https://api.fal.ai/v1/openapi.json): every page, every 90-day slice,
Decimal money after discounts, fal's error bodies, and the admin key checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import pytest

from bot.errors import BillingUnavailable
from bot.fal.billing_api import FalBillingApi
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.platform_api import api_url
from bot.fal.simulated.platform_bill import Billed
from bot.money import Money

MODEL = "fal-ai/ltx-2.3-quality/ingredient"
NOW = datetime.now(UTC)
KEY = "admin-secret"
# The required fields of fal's OpenAPI schemas for these responses.
EVENT_FIELDS = {
    "request_id", "endpoint_id", "timestamp", "output_units", "unit_price", "percent_discount",
    "cost_subtotal", "cost_discount", "cost_total", "cost_estimate_nano_usd",
}  # fmt: skip
USAGE_FIELDS = {
    "endpoint_id", "unit", "quantity", "unit_price", "percent_discount", "cost_subtotal",
    "cost_discount", "cost_total", "cost", "currency",
}  # fmt: skip


@pytest.fixture
async def platform(tmp_path) -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(data_dir=tmp_path / "fal", admin_key=KEY) as server:
        yield server


@pytest.fixture
async def api(platform: SimulatedFal) -> AsyncIterator[FalBillingApi]:
    client = FalBillingApi(api_url=api_url(platform), admin_key=KEY, verify=platform.ssl_context())
    yield client
    await client.aclose()


async def raw(fal: SimulatedFal, path: str, key: str = KEY, **query: str) -> tuple[int, dict]:
    connector = aiohttp.TCPConnector(ssl=fal.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        headers = {"Authorization": f"Key {key}"}
        async with session.get(f"{api_url(fal)}{path}", params=query, headers=headers) as answer:
            return answer.status, await answer.json()


def bill(fal: SimulatedFal, n: int, units: int = 5, *, at: datetime = NOW, **kw) -> list[Billed]:
    price = fal.unit_price
    lines = [
        Billed(f"req-{at:%j}-{i}", MODEL, at - timedelta(seconds=i), Decimal(units), price, **kw)
        for i in range(n)
    ]
    fal.billed += lines
    return lines


async def test_every_billing_event_across_pages_with_exact_money(platform, api, monkeypatch):
    monkeypatch.setattr("bot.fal.billing_api.PAGE", 3)  # 7 lines: three pages
    (first, *_) = bill(platform, 7)
    bill(platform, 1, at=NOW - timedelta(days=3))  # outside the window asked
    events = await api.billing_events(
        endpoint_id=MODEL, start=NOW - timedelta(days=1), end=NOW + timedelta(seconds=1)
    )
    assert sorted(e.request_id for e in events) == sorted(f"req-{NOW:%j}-{i}" for i in range(7))
    got = next(e for e in events if e.request_id == first.request_id)
    assert got.units == Decimal(5) and got.unit_price == Decimal("0.0024075")
    assert got.cost == Money.usd("0.0120375") and got.at.tzinfo is not None
    assert got.percent_discount is None


async def test_a_window_over_fals_90_days_is_asked_in_slices(platform, api):
    bill(platform, 1, at=NOW - timedelta(days=91))
    bill(platform, 1, at=NOW - timedelta(hours=1))
    status, body = await raw(
        platform, "/models/billing-events", start=f"{NOW - timedelta(days=92):%Y-%m-%d}"
    )
    assert status == 400 and body["error"]["type"] == "validation_error"  # fal's cap
    events = await api.billing_events(
        endpoint_id=MODEL, start=NOW - timedelta(days=92), end=NOW + timedelta(seconds=1)
    )
    assert len(events) == 2


async def test_a_discounted_line_costs_what_fal_charged_after_the_discount(platform, api):
    bill(platform, 1, units=10, percent_discount=Decimal(20))
    status, body = await raw(platform, "/models/billing-events", endpoint_id=MODEL)
    (line,) = body["billing_events"]
    assert status == 200 and set(line) == EVENT_FIELDS
    assert (line["cost_subtotal"], line["cost_total"]) == (0.024075, 0.01926)
    assert line["cost_estimate_nano_usd"] == 19_260_000 and body["has_more"] is False
    (event,) = await api.billing_events(
        endpoint_id=MODEL, start=NOW - timedelta(days=1), end=NOW + timedelta(seconds=1)
    )
    assert event.cost == Money.usd("0.01926") and event.percent_discount == Decimal(20)


async def test_usage_per_day_across_pages_and_discount_rates_and_the_unit_price(platform, api):
    noon = NOW.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    bill(platform, 2, units=4, at=noon)
    bill(platform, 1, units=10, at=noon, percent_discount=Decimal(20))  # a second row that day
    for day in range(2, 62):  # 61 days with usage: more buckets than fal's default page of 50
        bill(platform, 1, units=1, at=noon - timedelta(days=day))
    status, body = await raw(
        platform, "/models/usage", start=f"{noon - timedelta(days=1):%Y-%m-%d}", timeframe="day"
    )
    (bucket,) = body["time_series"]
    assert status == 200 and bucket["bucket"] == f"{noon:%Y-%m-%d}T00:00:00+00:00"
    assert [set(row) for row in bucket["results"]] == [USAGE_FIELDS, USAGE_FIELDS]
    totals = await api.usage(endpoint_id=MODEL, start=noon - timedelta(days=63), end=NOW)
    assert len({t.day for t in totals}) == 61
    that_day = sorted((t.quantity, t.cost) for t in totals if t.day == noon.date())
    assert that_day == [(Decimal(8), Money.usd("0.01926")), (Decimal(10), Money.usd("0.01926"))]
    price = await api.unit_price(MODEL)
    assert price is not None and (price.unit_price, price.unit, price.currency) == (
        Decimal("0.0024075"), "megapixels", "USD",
    )  # fmt: skip
    assert await api.unit_price("fal-ai/other") is None


async def test_fals_error_bodies_and_a_refused_key_become_one_sentence(platform, api):
    status, body = await raw(platform, "/models/pricing")
    assert status == 400 and body["error"]["type"] == "validation_error"
    status, body = await raw(platform, "/models/usage", key="plain-fal-key")
    assert status == 403 and body["error"]["type"] == "authorization_error"
    plain = FalBillingApi(
        api_url=api_url(platform), admin_key="plain-fal-key", verify=platform.ssl_context()
    )
    try:
        with pytest.raises(BillingUnavailable, match="LTXBOT_FAL_ADMIN_KEY") as refused:
            await plain.unit_price(MODEL)
    finally:
        await plain.aclose()
    assert "ADMIN API key" in str(refused.value) and "plain-fal-key" not in str(refused.value)
