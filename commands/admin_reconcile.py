"""`admin reconcile`: the ledger beside fal's own bill (fal's platform API, an ADMIN key).

Gathers fal's billing lines, usage totals and unit price (`FalBilling`) and the ledger's jobs,
lets `bot.reports.reconcile` sort them, and answers in words or, with `json`, one JSON object
(amounts as exact decimal strings): printed by the terminal, a .json file in a chat, whose
messages are too short for one. Days are UTC days, as fal's billing lines are stamped.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.errors import UserError
from bot.jobs.record import Job
from bot.model import Invocation, Reply
from bot.money import Money
from bot.ports import EntryKind, FalBilling
from bot.reports.export import prune_reports
from bot.reports.reconcile import Charge, reconcile
from commands.admin import require_admin
from commands.admin_reports import file_name, reports_dir
from commands.context import Services
from commands.reconcile_render import as_json, as_text

NEEDS_KEY = (
    "Reconciling with fal needs fal's admin API key: set LTXBOT_FAL_ADMIN_KEY to an "
    "ADMIN-scoped key from fal's dashboard (LTXBOT_FAL_API_URL names fal's API, by default "
    "https://api.fal.ai/v1)."
)
DEFAULT_DAYS = 7
MAX_DAYS = 90  # one report; fal is asked in slices of its 90-day cap (bot.fal.billing_api)
NEARBY = timedelta(days=1)


def _day(invocation: Invocation, name: str) -> date | None:
    value = invocation.options.get(name)
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"`{name}` takes a day as YYYY-MM-DD, e.g. 2026-12-01.") from None


def _window(invocation: Invocation, now: datetime) -> tuple[date, date, datetime, datetime]:
    until = _day(invocation, "until") or now.astimezone(UTC).date()
    since = _day(invocation, "since") or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise UserError("`since` must be on or before `until`.")
    if (until - since).days + 1 > MAX_DAYS:
        raise UserError(f"fal answers for at most {MAX_DAYS} days at once; ask for fewer.")
    start = datetime.combine(since, time(), UTC)
    end = min(datetime.combine(until + timedelta(days=1), time(), UTC), now)
    return since, until, start, max(end, start)


def _charge(job: Job) -> Charge:
    captured = None if job.captured_nanos is None else Money(job.captured_nanos)
    uncharged = Money(job.uncharged_nanos) if job.uncharged_nanos else None
    scope = f"{job.origin.platform.value}:{job.origin.scope}"
    # A job on the simulated fal is released, never captured: say so beside it.
    state = f"{job.state.value} (simulated: never charged)" if job.simulated else job.state.value
    return Charge(job.id, job.fal_request_id or "", scope, state, captured, uncharged)


async def admin_reconcile(invocation: Invocation, services: Services) -> Reply:
    """Matched, billed but not charged, charged but not billed, mismatches, per-day totals."""
    actor = invocation.actor
    require_admin(actor)
    billing: FalBilling | None = services.billing
    if billing is None:
        raise UserError(NEEDS_KEY)
    now = services.clock()
    since, until, start, end = _window(invocation, now)
    endpoint = services.settings.fal_model
    wide_end = min(end + NEARBY, max(now, end))
    events, usage, price = await asyncio.gather(
        billing.billing_events(endpoint_id=endpoint, start=start - NEARBY, end=wide_end),
        billing.usage(endpoint_id=endpoint, start=start, end=end),
        billing.unit_price(endpoint),
    )
    inside = [e for e in events if start <= e.at < end]
    # Two reads in all, whatever the number of lines: fal's request ids, then the captures.
    by_request = await services.jobs.by_fal_request_ids({e.request_id for e in inside})
    known = {request_id: _charge(job) for request_id, job in by_request.items()}
    entries = await services.ledger.entries(scope=actor.scope_key, since=start, until=end)
    captured = [e.ref for e in entries if e.kind is EntryKind.CAPTURE and e.amount.nanos > 0]
    jobs = await services.jobs.many(captured)
    here = [_charge(jobs[ref]) for ref in captured if ref in jobs and jobs[ref].fal_request_id]
    report = reconcile(
        scope=actor.scope_key,
        billed=inside,
        known=known,
        charged_here=here,
        usage=usage,
        fal_price=price,
        our_price=services.settings.price_per_megapixel,
        billed_nearby=[e.request_id for e in events],
    )
    text = as_text(report, since=since, until=until, endpoint=endpoint)
    data = as_json(report, since=since, until=until, endpoint=endpoint)
    if not invocation.options.get("json"):  # the terminal prints `data` for its --json
        return Reply(text=text, data=data)
    body = json.dumps(data, indent=2)
    path = reports_dir(services) / file_name("reconcile", actor.scope_key, "days", now, "json")
    await asyncio.to_thread(prune_reports, path.parent)
    await asyncio.to_thread(_write, path, body)
    return Reply(text=text.splitlines()[0] + " The JSON is attached.", file=path)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
