"""`FalBillingApi`: fal's platform API for models, read with an ADMIN-scoped key (FalBilling).

The shapes are fal's documented ones (https://fal.ai/docs/platform-apis/v1/models/billing-events,
https://fal.ai/docs/platform-apis/v1/models/usage, https://fal.ai/docs/platform-apis/v1/models/
pricing; server `https://api.fal.ai/v1`): `Authorization: Key <admin key>`; `start` inclusive and
`end` exclusive, ISO 8601; cursor pagination through `next_cursor` / `has_more`. Billing events
carry `request_id`, `endpoint_id`, `timestamp`, `output_units`, `unit_price` and
`cost_estimate_nano_usd`; usage with `expand=time_series&timeframe=day` gives
`time_series[].bucket` and `.results[]` of `endpoint_id`, `quantity`, `unit_price`, `cost`
(dollars); pricing gives `prices[]` of `endpoint_id`, `unit_price`, `unit`, `currency`.
JSON numbers are read as Decimal, never float. The key is never logged.
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

import aiohttp

from bot.errors import BillingUnavailable
from bot.fal.session import LazySession
from bot.money import Money
from bot.ports import BilledRequest, UnitPrice, UsageTotal

PAGE = 1000
MAX_PAGES = 200  # 200k lines: far past any month of this bot; a loop guard, not a limit
TIMEOUT = aiohttp.ClientTimeout(total=60)
_loads = functools.partial(json.loads, parse_float=Decimal)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(f"not a number: {value!r}")
    return Decimal(value)


class FalBillingApi:
    """FalBilling over aiohttp; `verify` as for fal_client (True: the system's trust)."""

    def __init__(self, *, api_url: str, admin_key: str, verify: ssl.SSLContext | bool = True):
        self._url = api_url.rstrip("/")
        self._headers = {"Authorization": f"Key {admin_key}"}
        self._session = LazySession(verify, self._make)

    def _make(self, verify: ssl.SSLContext | bool) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            timeout=TIMEOUT, connector=aiohttp.TCPConnector(ssl=verify), trust_env=True
        )

    async def aclose(self) -> None:
        await self._session.aclose()

    async def _get(self, path: str, query: Mapping[str, str]) -> dict[str, object]:
        session = await self._session.get()
        url = f"{self._url}{path}"
        try:
            async with session.get(url, params=dict(query), headers=self._headers) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BillingUnavailable(
                f"fal's platform API at {self._url} could not be reached ({type(exc).__name__})."
            ) from None
        if status in (401, 403):
            raise BillingUnavailable(
                f"fal's platform API refused the admin key ({status}): LTXBOT_FAL_ADMIN_KEY must "
                "be an ADMIN-scoped key of the account that runs the videos."
            )
        if status != 200:
            raise BillingUnavailable(f"fal's platform API answered {status} for {path}.")
        try:
            body = _loads(text)
        except ValueError:
            raise BillingUnavailable(f"fal's platform API sent no JSON for {path}.") from None
        if not isinstance(body, dict):
            raise BillingUnavailable(f"fal's platform API sent an unexpected answer for {path}.")
        return body

    async def _pages(self, path: str, key: str, query: dict[str, str]) -> list[dict[str, object]]:
        """Every item under `key` of every page, following `next_cursor`."""
        items: list[dict[str, object]] = []
        for _ in range(MAX_PAGES):
            body = await self._get(path, query)
            page = body.get(key) or []
            if not isinstance(page, list):
                raise BillingUnavailable(f"fal's platform API sent no {key} list for {path}.")
            items += [item for item in page if isinstance(item, dict)]
            cursor = body.get("next_cursor")
            if not body.get("has_more") or not isinstance(cursor, str) or not cursor:
                return items
            query = {**query, "cursor": cursor}
        raise BillingUnavailable(f"fal's platform API kept paging past {MAX_PAGES} pages.")

    async def billing_events(
        self, *, endpoint_id: str, start: datetime, end: datetime
    ) -> list[BilledRequest]:
        query = {"endpoint_id": endpoint_id, "start": _iso(start), "end": _iso(end)}
        query["limit"] = str(PAGE)
        lines = await self._pages("/models/billing-events", "billing_events", query)
        try:
            return [
                BilledRequest(
                    request_id=str(line["request_id"]),
                    endpoint_id=str(line["endpoint_id"]),
                    at=datetime.fromisoformat(str(line["timestamp"]).replace("Z", "+00:00")),
                    units=_decimal(line.get("output_units", 0)),
                    unit_price=None
                    if line.get("unit_price") is None
                    else _decimal(line["unit_price"]),
                    cost=Money(int(_decimal(line["cost_estimate_nano_usd"]))),
                )
                for line in lines
            ]
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise BillingUnavailable(f"fal sent a billing event we cannot read ({exc}).") from None

    async def usage(self, *, endpoint_id: str, start: datetime, end: datetime) -> list[UsageTotal]:
        query = {"endpoint_id": endpoint_id, "start": _iso(start), "end": _iso(end)}
        query |= {"timeframe": "day", "timezone": "UTC", "expand": "time_series"}
        buckets = await self._pages("/models/usage", "time_series", query)
        totals: list[UsageTotal] = []
        try:
            for bucket in buckets:
                day = date.fromisoformat(str(bucket["bucket"])[:10])
                results = bucket.get("results") or []
                if not isinstance(results, list):
                    raise TypeError("results is not a list")
                for row in results:
                    totals.append(
                        UsageTotal(
                            endpoint_id=str(row["endpoint_id"]),
                            day=day,
                            quantity=_decimal(row.get("quantity", 0)),
                            cost=Money.usd(_decimal(row.get("cost", 0))),
                        )
                    )
        except (KeyError, ValueError, ArithmeticError, TypeError) as exc:
            raise BillingUnavailable(f"fal sent usage we cannot read ({exc}).") from None
        return totals

    async def unit_price(self, endpoint_id: str) -> UnitPrice | None:
        prices = await self._pages("/models/pricing", "prices", {"endpoint_id": endpoint_id})
        for line in prices:
            if line.get("endpoint_id") == endpoint_id and line.get("unit_price") is not None:
                try:
                    price = _decimal(line["unit_price"])
                except ValueError:
                    return None
                return UnitPrice(
                    endpoint_id, price, str(line.get("unit", "")), str(line.get("currency", ""))
                )
        return None
