"""fal's platform API for models, served from the simulated fal's own bill (`fal.billed`).

  GET /v1/models/billing-events?start&end&endpoint_id&limit&cursor   one line per billed request
  GET /v1/models/usage?start&end&endpoint_id&timeframe=day&expand    totals per endpoint and day
  GET /v1/models/pricing?endpoint_id                                 the unit price
Shapes as fal documents them (https://fal.ai/docs/platform-apis/v1/models/billing-events,
.../models/usage, .../models/pricing): `Authorization: Key <ADMIN key>`, `start` inclusive and
`end` exclusive (ISO 8601 or a date), cursor pagination (`next_cursor`, `has_more`; the cursor is
the base64 page number), money per line as `cost_estimate_nano_usd`.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import web

from bot.fal.simulated.errors import detail_response
from bot.fal.simulated.wire import JSONObject

if TYPE_CHECKING:
    from bot.fal.simulated.jobs import SimJob
    from bot.fal.simulated.server import SimulatedFal

UNIT = "megapixels"
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Billed:
    """One request the simulated fal billed: when, how many units, at what price."""

    request_id: str
    endpoint_id: str
    at: datetime
    units: Decimal
    unit_price: Decimal

    @property
    def nanos(self) -> int:
        return int(-(-self.units * self.unit_price * 1_000_000_000 // 1))  # rounded up


def api_url(fal: SimulatedFal) -> str:
    """Where the platform API is served: what fal's `https://api.fal.ai/v1` is."""
    return f"{fal.base_url}/v1"


def record_bill(fal: SimulatedFal, job: SimJob) -> None:
    """Bill a job that rendered: the units its result header sends (a plain number), else the
    units asked for."""
    if job.outcome is None or not job.outcome.ok or not job.outcome.billable_units:
        return
    units = Decimal(job.outcome.billable_units)
    if fal.faults.billable_units is not None and fal.faults.billable_units.isdigit():
        units = Decimal(fal.faults.billable_units)
    fal.billed.append(Billed(job.request_id, job.app_id, datetime.now(UTC), units, fal.unit_price))


def _moment(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme != "Key" or not key.strip():
            return detail_response("Missing or invalid Authorization header", status=401)
        admin = self._fal.admin_key
        if admin is not None and key != admin:
            return detail_response("This endpoint requires an ADMIN-scoped API key", status=403)
        return None

    def _window(self, request: web.Request) -> tuple[list[Billed], datetime, datetime]:
        now = datetime.now(UTC)
        start = _moment(request.query.get("start"), now - timedelta(hours=24))
        end = _moment(request.query.get("end"), now)
        wanted = {
            part for value in request.query.getall("endpoint_id", []) for part in value.split(",")
        }
        lines = [
            b
            for b in self._fal.billed
            if start <= b.at < end and (not wanted or b.endpoint_id in wanted)
        ]
        return lines, start, end

    async def billing_events(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        try:
            lines, _, _ = self._window(request)
            limit = min(int(request.query.get("limit", "50")), MAX_PAGE)
            cursor = request.query.get("cursor")
            page = int(base64.b64decode(cursor).decode()) if cursor else 0
        except (ValueError, binascii.Error):
            return detail_response("Invalid query parameters", status=422)
        lines.sort(key=lambda b: b.at, reverse=True)  # newest first, as fal's example
        chunk = lines[page * limit : (page + 1) * limit]
        more = (page + 1) * limit < len(lines)
        body: JSONObject = {
            "billing_events": [
                {
                    "request_id": b.request_id,
                    "endpoint_id": b.endpoint_id,
                    "timestamp": b.at.isoformat().replace("+00:00", "Z"),
                    "output_units": float(b.units),
                    "unit_price": float(b.unit_price),
                    "percent_discount": None,
                    "cost_estimate_nano_usd": b.nanos,
                }
                for b in chunk
            ],
            "next_cursor": base64.b64encode(str(page + 1).encode()).decode() if more else None,
            "has_more": more,
        }
        return web.json_response(body)

    async def usage(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        try:
            lines, _, _ = self._window(request)
        except ValueError:
            return detail_response("Invalid query parameters", status=422)
        days: dict[str, dict[str, list[Billed]]] = defaultdict(lambda: defaultdict(list))
        for b in lines:
            day = b.at.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
            days[day][b.endpoint_id].append(b)
        series = [
            {
                "bucket": day,
                "results": [
                    {
                        "endpoint_id": endpoint,
                        "unit": UNIT,
                        "quantity": float(sum((b.units for b in billed), Decimal(0))),
                        "unit_price": float(billed[0].unit_price),
                        "cost": sum(b.nanos for b in billed) / 1_000_000_000,
                    }
                    for endpoint, billed in sorted(endpoints.items())
                ],
            }
            for day, endpoints in sorted(days.items())
        ]
        return web.json_response({"time_series": series, "next_cursor": None, "has_more": False})

    async def pricing(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        wanted = [p for v in request.query.getall("endpoint_id", []) for p in v.split(",") if p]
        if not wanted:
            return detail_response("endpoint_id is required", status=422)
        prices = [
            {
                "endpoint_id": e,
                "unit_price": float(self._fal.unit_price),
                "unit": UNIT,
                "currency": "USD",
            }
            for e in wanted
            if e in self._fal.app_ids
        ]
        return web.json_response({"prices": prices, "next_cursor": None, "has_more": False})
