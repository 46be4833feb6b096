"""Replies as data (`Reply.data`), for `--json`: amounts are exact decimal strings (never
floats), times ISO 8601, absent values null, so a script reads what the ledger holds."""

from __future__ import annotations

from datetime import datetime

from bot.budget.limits import CapStatus
from bot.jobs.record import Job
from bot.model import JSONObject
from bot.money import Money
from bot.pricing import Quote


def usd(nanos: int | Money | None) -> str | None:
    """An exact amount in dollars ("0.0024075"), or None."""
    if nanos is None:
        return None
    return (nanos if isinstance(nanos, Money) else Money(nanos)).exact_str()


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def quote_data(quote: Quote) -> JSONObject:
    return {
        "width": quote.width,
        "height": quote.height,
        "num_frames": quote.num_frames,
        "megapixels": quote.megapixels,
        "cost_usd": quote.cost.exact_str(),
    }


def job_data(job: Job) -> JSONObject:
    """Every detail of a job a person may see: the three prices, the times, the video."""
    result, request = job.result, job.request
    rendered = result.rendered if result else None
    return {
        "job_id": job.id,
        "state": job.state.value,
        "failure": job.failure,
        "prompt": request.prompt,
        "request": request.model_dump(mode="json"),
        "simulated": job.simulated,
        "quoted_usd": usd(job.quoted_nanos),
        "quoted_megapixels": job.quoted_megapixels,
        "billed_usd": usd(job.billed_nanos),
        "billed_megapixels": (
            str(job.billed_megapixels) if job.billed_megapixels is not None else None
        ),
        "probed_usd": usd(job.probed_nanos),
        "probed_megapixels": job.probed_megapixels,
        "charged_usd": usd(job.captured_nanos),
        "uncharged_usd": usd(job.uncharged_nanos),
        "seed": result.seed if result else None,
        "rendered": rendered.model_dump(mode="json") if rendered else None,
        "video_path": result.video_path if result else None,
        "out_path": job.origin.out_path,
        "created_at": when(job.created_at),
        "submitted_at": when(job.submitted_at),
        "started_at": when(job.started_at),
        "finished_at": when(job.finished_at),
        "cancel_requested_at": when(job.cancel_requested_at),
        "rerolled_from": job.rerolled_from,
        "draft": job.draft,
        "final_usd": usd(job.final_nanos),
        "final_of": job.final_of,
        "take": job.take,  # its number among its request's takes (None: no takes)
        "take_ids": list(job.take_ids),
    }


def cap_data(status: CapStatus, resets: str) -> JSONObject:
    limit, usage = status.limit, status.usage
    return {
        "name": limit.name,
        "team_pool": limit.user_id is None,
        "cap_usd": usd(limit.limit),
        "spent_usd": usd(usage.spent),
        "held_usd": usd(usage.held),
        "granted_usd": usd(usage.granted),
        "left_usd": usd(status.remaining),
        "resets_at": when(limit.resets_at),
        "resets": resets,
    }
