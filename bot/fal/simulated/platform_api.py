"""fal's platform API for models, served from the simulated fal's own bill (`fal.billed`).

  GET /v1/models/billing-events?start&end&endpoint_id&request_id&limit&cursor
  GET /v1/models/usage?start&end&endpoint_id&timeframe&timezone&bound_to_timeframe&expand
                      &limit&cursor
  GET /v1/models/pricing?endpoint_id
As fal documents them (https://fal.ai/docs/platform-apis/v1/models/billing-events,
https://fal.ai/docs/platform-apis/v1/models/usage, https://fal.ai/docs/platform-apis/v1/models/
pricing; https://api.fal.ai/v1/openapi.json): `Authorization: Key <ADMIN key>`; `start`
inclusive (default 24 hours ago) and `end` exclusive (default now), a date or an ISO 8601
date-time; ids as repeated or comma-separated values; billing events at most 10,000 a page and
90 days a query; cursor pagination (`next_cursor` the base64 of the next page number, null on the
last page; `has_more`); errors as `{"error": {"type", "message"}}` with 400, 401 or 403.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from bot.fal.simulated.platform_bill import UNIT, Billed
from bot.fal.simulated.platform_usage import TIMEFRAMES, auto_timeframe, bound, rows, time_series
from bot.fal.simulated.wire import JSON, JSONObject

if TYPE_CHECKING:
    from bot.fal.simulated.server import SimulatedFal

MAX_EVENTS_PAGE = 10_000
MAX_SPAN = timedelta(days=90)
DEFAULT_PAGE = 50


class Invalid(ValueError):
    """A query fal would answer with 400 validation_error."""


def api_url(fal: SimulatedFal) -> str:
    """Where the platform API is served: what fal's `https://api.fal.ai/v1` is."""
    return f"{fal.base_url}/v1"


def error(kind: str, message: str, status: int) -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message}}, status=status)


def _moment(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"Invalid date: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _values(request: web.Request, name: str) -> set[str]:
    return {part for value in request.query.getall(name, []) for part in value.split(",") if part}


def _page(request: web.Request, *, largest: int) -> tuple[int, int]:
    """(page number from 1, page size) from `cursor` and `limit`."""
    try:
        limit = int(request.query.get("limit", str(DEFAULT_PAGE)))
        cursor = request.query.get("cursor")
        page = int(base64.b64decode(cursor, validate=True).decode()) if cursor else 1
    except (ValueError, binascii.Error):
        raise Invalid("Invalid limit or cursor") from None
    if not 1 <= limit <= largest or page < 1:
        raise Invalid(f"limit must be between 1 and {largest}")
    return page, limit


def _paged(key: str, every: list[JSONObject], page: int, limit: int) -> JSONObject:
    chunk: list[JSON] = [*every[(page - 1) * limit : page * limit]]
    more = page * limit < len(every)
    cursor = base64.b64encode(str(page + 1).encode()).decode() if more else None
    return {"next_cursor": cursor, "has_more": more, key: chunk}


class PlatformApi:
    def __init__(self, fal: SimulatedFal) -> None:
        self._fal = fal

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/models/billing-events", self.billing_events),
            web.get("/v1/models/usage", self.usage),
            web.get("/v1/models/pricing", self.pricing),
        ]

    def _refused(self, request: web.Request) -> web.Response | None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Key" or not key.strip():
            return error("authorization_error", "Missing or invalid Authorization header", 401)
        if self._fal.admin_key is not None and key != self._fal.admin_key:
            return error("authorization_error", "This endpoint requires an ADMIN API key", 403)
        return None

    def _window(self, request: web.Request) -> tuple[datetime, datetime]:
        now = datetime.now(UTC)
        start = _moment(request.query.get("start"), now - timedelta(hours=24))
        end = _moment(request.query.get("end"), now)
        if end < start:
            raise Invalid("end must not be before start")
        return start, end

    def _lines(self, request: web.Request, start: datetime, end: datetime) -> list[Billed]:
        endpoints, requests = _values(request, "endpoint_id"), _values(request, "request_id")
        return [
            b
            for b in self._fal.billed
            if start <= b.at < end
            and (not endpoints or b.endpoint_id in endpoints)
            and (not requests or b.request_id in requests)
        ]

    async def billing_events(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        try:
            start, end = self._window(request)
            if end - start > MAX_SPAN:
                raise Invalid("Date range cannot exceed 90 days")
            page, limit = _page(request, largest=MAX_EVENTS_PAGE)
        except Invalid as exc:
            return error("validation_error", str(exc), 400)
        lines = sorted(self._lines(request, start, end), key=lambda b: b.at, reverse=True)
        events: list[JSONObject] = [
            {
                "request_id": b.request_id,
                "endpoint_id": b.endpoint_id,
                "timestamp": b.at.isoformat().replace("+00:00", "Z"),
                "output_units": float(b.units),
                "unit_price": float(b.unit_price),
                "percent_discount": None
                if b.percent_discount is None
                else float(b.percent_discount),
                "cost_subtotal": float(b.subtotal),
                "cost_discount": float(b.subtotal - b.total),
                "cost_total": float(b.total),
                "cost_estimate_nano_usd": b.nanos,
            }
            for b in lines
        ]
        return web.json_response(_paged("billing_events", events, page, limit))

    async def usage(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        expand = _values(request, "expand") or {"time_series"}
        try:
            if not expand & {"time_series", "summary"}:
                raise Invalid("expand must include time_series or summary")
            start, end = self._window(request)
            zone = ZoneInfo(request.query.get("timezone", "UTC"))
            timeframe = request.query.get("timeframe") or auto_timeframe(end - start)
            if timeframe not in TIMEFRAMES:
                raise Invalid(f"Invalid timeframe: {timeframe}")
            if request.query.get("bound_to_timeframe", "true") == "true":
                start, end = bound(start, end, timeframe, zone)
            page, limit = _page(request, largest=MAX_EVENTS_PAGE)
        except (Invalid, ZoneInfoNotFoundError, ValueError) as exc:
            return error("validation_error", str(exc) or "Invalid query parameters", 400)
        lines = self._lines(request, start, end)
        body = _paged("time_series", time_series(lines, timeframe, zone), page, limit)
        if "time_series" not in expand:
            del body["time_series"]
        if "summary" in expand:
            body["summary"] = [*rows(lines)]
        return web.json_response(body)

    async def pricing(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        wanted = sorted(_values(request, "endpoint_id"))
        if not 1 <= len(wanted) <= 50:
            return error("validation_error", "endpoint_id: 1 to 50 endpoint ids are required", 400)
        prices: list[JSON] = [
            {
                "endpoint_id": e,
                "unit_price": float(self._fal.unit_price),
                "unit": UNIT,
                "currency": "USD",
            }
            for e in wanted
            if e in self._fal.app_ids
        ]
        return web.json_response({"next_cursor": None, "has_more": False, "prices": prices})
