"""`FalBillingApi`: fal's platform API for models, read with an ADMIN-scoped key (FalBilling).

As fal documents it (https://fal.ai/docs/platform-apis/v1/models/billing-events,
https://fal.ai/docs/platform-apis/v1/models/usage, https://fal.ai/docs/platform-apis/v1/models/
pricing; the OpenAPI document https://api.fal.ai/v1/openapi.json; server `https://api.fal.ai/v1`):
- `Authorization: Key <admin key>`.
- `start` inclusive and `end` exclusive, ISO 8601 (a date or a date-time); `endpoint_id` filters.
- Pages: `limit` (billing events: at most 10,000 a page) and `cursor`; each body carries
  `next_cursor` (null on the last page) and `has_more`. Every page is read.
- Billing events: one query spans at most 90 days, so a longer window is asked in slices.
- Usage: `expand=time_series`, `timeframe=day`, `timezone=UTC` (buckets are UTC days).
- Pricing: `endpoint_id` is required.
- Errors (400, 401, 403, 404, 429, 500): `{"error": {"type", "message", ...}}`.
The bodies are read in `bot.fal.billing_wire`. The key is never logged nor repeated.
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

import aiohttp

from bot.errors import BillingUnavailable
from bot.fal import billing_wire as wire
from bot.fal.session import LazySession
from bot.ports import BilledRequest, UnitPrice, UsageTotal

PAGE = 1000  # billing events per page (fal allows up to 10,000)
MAX_SPAN = timedelta(days=90)  # fal's cap on one billing-events query
MAX_PAGES = 500  # a loop guard against a cursor that never ends, not a limit
TIMEOUT = aiohttp.ClientTimeout(total=60)
_loads = functools.partial(json.loads, parse_float=Decimal)
_UNREADABLE = (KeyError, ValueError, ArithmeticError, TypeError)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class FalBillingApi:
    """FalBilling over aiohttp; `verify` as for fal_client (True: the system's trust)."""

    def __init__(self, *, api_url: str, admin_key: str, verify: ssl.SSLContext | bool = True):
        self._url = api_url.rstrip("/")
        self._key = admin_key
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
        try:
            async with session.get(
                f"{self._url}{path}", params=dict(query), headers=self._headers
            ) as response:
                text, status = await response.text(), response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BillingUnavailable(
                f"fal's platform API at {self._url} could not be reached ({type(exc).__name__})."
            ) from None
        try:
            body: object = _loads(text)
        except ValueError:
            body = None
        if status != 200:
            raise BillingUnavailable(self._refusal(path, status, wire.error_message(body)))
        if not isinstance(body, dict):
            raise BillingUnavailable(f"fal's platform API sent no JSON object for {path}.")
        return body

    def _refusal(self, path: str, status: int, message: str | None) -> str:
        said = f" (fal: {message.replace(self._key, '...')})" if message else ""
        if status in (401, 403):
            return (
                f"fal's platform API refused the admin key ({status}){said}: "
                "LTXBOT_FAL_ADMIN_KEY must be an ADMIN-scoped key of the account that runs "
                "the videos."
            )
        if status == 429:
            return f"fal's platform API is rate limiting us{said}; try again in a minute."
        return f"fal's platform API answered {status} for {path}{said}."

    async def _pages(self, path: str, key: str, query: dict[str, str]) -> list[dict[str, object]]:
        """Every item under `key` of every page, following `next_cursor` while `has_more`."""
        found: list[dict[str, object]] = []
        for _ in range(MAX_PAGES):
            body = await self._get(path, query)
            try:
                found += wire.items(body, key)
            except TypeError:
                raise BillingUnavailable(f"fal's platform API sent no {key} list.") from None
            cursor = body.get("next_cursor")
            if not body.get("has_more") or not isinstance(cursor, str) or not cursor:
                return found
            query = {**query, "cursor": cursor}
        raise BillingUnavailable(f"fal's platform API kept paging past {MAX_PAGES} pages.")

    async def billing_events(
        self, *, endpoint_id: str, start: datetime, end: datetime
    ) -> list[BilledRequest]:
        lines: list[dict[str, object]] = []
        while start < end:
            upto = min(start + MAX_SPAN, end)
            query = {"endpoint_id": endpoint_id, "start": _iso(start), "end": _iso(upto)}
            query["limit"] = str(PAGE)
            lines += await self._pages("/models/billing-events", "billing_events", query)
            start = upto
        try:
            return [wire.billing_event(line) for line in lines]
        except _UNREADABLE as exc:
            raise BillingUnavailable(f"fal sent a billing event we cannot read ({exc}).") from None

    async def usage(self, *, endpoint_id: str, start: datetime, end: datetime) -> list[UsageTotal]:
        query = {"endpoint_id": endpoint_id, "start": _iso(start), "end": _iso(end)}
        query |= {"timeframe": "day", "timezone": "UTC", "expand": "time_series"}
        buckets = await self._pages("/models/usage", "time_series", query)
        try:
            return [total for bucket in buckets for total in wire.usage_totals(bucket)]
        except _UNREADABLE as exc:
            raise BillingUnavailable(f"fal sent usage we cannot read ({exc}).") from None

    async def unit_price(self, endpoint_id: str) -> UnitPrice | None:
        prices = await self._pages("/models/pricing", "prices", {"endpoint_id": endpoint_id})
        for line in prices:
            if line.get("endpoint_id") == endpoint_id:
                try:
                    return wire.unit_price(line)
                except _UNREADABLE:
                    return None
        return None
