"""`admin reconcile`'s answer: in words for a chat, or one JSON object (amounts as exact
decimal strings, never floats)."""

from __future__ import annotations

from datetime import date

from bot.money import Money
from bot.reports.reconcile import Line, Reconciliation

MAX_LINES = 10  # per list: a Discord message holds 2000 characters
PRICE_SETTING = "LTXBOT_PRICE_PER_MEGAPIXEL"


def _money(amount: Money | None) -> str | None:
    return None if amount is None else amount.exact_str()


def _line_json(line: Line) -> dict[str, object]:
    return {
        "request_id": line.request_id,
        "job_id": line.job_id,
        "fal_usd": _money(line.fal),
        "charged_usd": _money(line.charged),
        "difference_usd": line.difference.exact_str(),
        "why": line.why,
    }


def as_json(
    report: Reconciliation, *, since: date, until: date, endpoint: str
) -> dict[str, object]:
    fal_price = report.fal_price
    lists = {
        "matched": report.matched,
        "billed_not_charged": report.billed_not_charged,
        "charged_not_billed": report.charged_not_billed,
        "mismatches": report.mismatches,
    }
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "endpoint_id": endpoint,
        "clean": report.clean,
        **{name: [_line_json(line) for line in lines] for name, lines in lists.items()},
        "other_scopes_matched": report.other_scopes,
        "days": [
            {
                "endpoint_id": d.endpoint_id,
                "day": d.day.isoformat(),
                "fal_usage_usd": _money(d.fal_usage),
                "fal_billing_events_usd": d.fal_lines.exact_str(),
                "charged_usd": d.charged.exact_str(),
                "agrees": d.agrees,
            }
            for d in report.days
        ],
        "unit_price": {
            "fal_usd": None if fal_price is None else format(fal_price.unit_price, "f"),
            "fal_unit": None if fal_price is None else fal_price.unit,
            "ours_usd": format(report.our_price, "f"),
        },
        "totals": {
            "fal_billed_usd": report.fal_billed.exact_str(),
            "charged_usd": report.charged.exact_str(),
            **{f"{name}_usd": _total(lines).exact_str() for name, lines in lists.items()},
        },
    }


def _total(lines: list[Line]) -> Money:
    return Money(sum((line.fal or line.charged or Money(0)).nanos for line in lines))


def _listed(title: str, lines: list[Line]) -> list[str]:
    if not lines:
        return [f"{title}: none."]
    out = [f"{title}: {len(lines)} ({_total(lines).exact_text()})"]
    for line in lines[:MAX_LINES]:
        job = f" (job `{line.job_id}`)" if line.job_id else ""
        amounts = " · ".join(
            part
            for part in (
                f"fal {line.fal.exact_text()}" if line.fal is not None else "",
                f"charged {line.charged.exact_text()}" if line.charged is not None else "",
            )
            if part
        )
        why = f" — {line.why}" if line.why else ""
        out.append(f"• `{line.request_id}`{job}: {amounts}{why}")
    if len(lines) > MAX_LINES:
        out.append(f"…and {len(lines) - MAX_LINES} more (`json` lists them all).")
    return out


def as_text(report: Reconciliation, *, since: date, until: date, endpoint: str) -> str:
    head = (
        f"Ledger beside fal, {since} to {until} (UTC days), {endpoint}: fal billed "
        f"{report.fal_billed.exact_text()}, the ledger charged {report.charged.exact_text()}."
    )
    lines = [head, "All agree." if report.clean else "They differ:"]
    lines.append(f"Matched: {len(report.matched)}.")
    lines += _listed("Billed by fal but not charged", report.billed_not_charged)
    lines += _listed("Charged but not billed by fal", report.charged_not_billed)
    lines += _listed("Amount mismatches", report.mismatches)
    for d in report.days:
        usage = d.fal_usage.exact_text() if d.fal_usage is not None else "none"
        mark = "agree" if d.agrees else "DIFFER"
        lines.append(
            f"{d.day} {d.endpoint_id}: fal usage {usage} · fal lines {d.fal_lines.exact_text()} · "
            f"charged {d.charged.exact_text()} ({mark})"
        )
    price = report.fal_price
    ours = f"${report.our_price:f} per megapixel ({PRICE_SETTING})"
    if price is None:
        lines.append(f"Unit price: fal named none; ours is {ours}.")
    else:
        same = "the same" if price.unit_price == report.our_price else "DIFFERENT"
        lines.append(
            f"Unit price: fal says ${price.unit_price:f} {price.currency} per {price.unit}; "
            f"ours is {ours}: {same}."
        )
    if report.other_scopes:
        lines.append(f"{report.other_scopes} billed lines are other teams' jobs (counted only).")
    return "\n".join(lines)
