"""fal's platform API bodies read into `bot.ports` records (`bot.fal.billing_api` fetches them).

The fields and types are those of fal's OpenAPI document (https://api.fal.ai/v1/openapi.json),
shown on https://fal.ai/docs/platform-apis/v1/models/billing-events,
https://fal.ai/docs/platform-apis/v1/models/usage and
https://fal.ai/docs/platform-apis/v1/models/pricing. JSON numbers arrive as Decimal (the body is
parsed with `parse_float=Decimal`), never float. A body we cannot read raises ValueError, KeyError
or TypeError; the client turns those into one sentence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, Decimal

from bot.money import Money
from bot.ports import BilledRequest, UnitPrice, UsageTotal


def number(value: object) -> Decimal:
    """A JSON number (or a numeric string) as Decimal; bools and anything else refused."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(f"not a number: {value!r}")
    return Decimal(value)


def _optional(value: object) -> Decimal | None:
    return None if value is None else number(value)


def _nanos(value: Decimal) -> Money:
    """fal types nano-dollars as a JSON number: a fraction of one is rounded up, never lost."""
    return Money(int(value.to_integral_value(rounding=ROUND_CEILING)))


def moment(text: object) -> datetime:
    """An ISO 8601 timestamp (`Z` or an offset; one without either is UTC)."""
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def items(body: dict[str, object], key: str) -> list[dict[str, object]]:
    """The list under `key` of one page; absent is empty, anything but a list unreadable."""
    found = body.get(key)
    if found is None:
        return []
    if not isinstance(found, list):
        raise TypeError(f"{key} is not a list")
    return [item for item in found if isinstance(item, dict)]


def billing_event(line: dict[str, object]) -> BilledRequest:
    """One of `billing_events[]`: `cost_estimate_nano_usd` is the charge after discounts (the
    same as `cost_total`, in dollars); `output_units`, `unit_price`, `percent_discount` may be
    null."""
    nanos = line.get("cost_estimate_nano_usd")
    cost = _nanos(number(nanos)) if nanos is not None else Money.usd(number(line["cost_total"]))
    return BilledRequest(
        request_id=str(line["request_id"]),
        endpoint_id=str(line["endpoint_id"]),
        at=moment(line["timestamp"]),
        units=_optional(line.get("output_units")),
        unit_price=_optional(line.get("unit_price")),
        cost=cost,
        percent_discount=_optional(line.get("percent_discount")),
    )


def usage_totals(bucket: dict[str, object]) -> list[UsageTotal]:
    """One of `time_series[]`: `bucket` is the bucket's start in the timezone asked for (we ask
    UTC), `results[]` one row per endpoint, unit price and discount rate; `cost_total` is the
    charge after discounts (`cost`, deprecated, the same)."""
    day: date = moment(bucket["bucket"]).date()
    rows = items(bucket, "results")
    return [
        UsageTotal(
            endpoint_id=str(row["endpoint_id"]),
            day=day,
            quantity=number(row["quantity"]),
            cost=Money.usd(number(row["cost_total"] if "cost_total" in row else row["cost"])),
        )
        for row in rows
    ]


def unit_price(line: dict[str, object]) -> UnitPrice:
    """One of `prices[]`: every field is required by fal's schema."""
    return UnitPrice(
        endpoint_id=str(line["endpoint_id"]),
        unit_price=number(line["unit_price"]),
        unit=str(line["unit"]),
        currency=str(line["currency"]),
    )


def error_message(body: object) -> str | None:
    """fal's error body: `{"error": {"type", "message", "docs_url"?, "request_id"?}}`."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    message = body["error"].get("message")
    return str(message)[:300] if message else None
