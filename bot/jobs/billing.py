"""What a finished job is charged: fal's bill when fal sent one, else the price of the video
probed, and never above the hold the user accepted.

fal bills this endpoint per megapixel and says how many in the `x-fal-billable-units` header. A
budget caps what the team pays fal, so that bill is the truth; the probed MP4 is the fallback
when the header is missing or unreadable. A bill above the hold is captured at the hold (the
user accepted no more) and the rest is recorded as `uncharged` and logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from bot.jobs.record import Rendered
from bot.money import Money
from bot.pricing import quote

log = logging.getLogger(__name__)
# A plain decimal number of units: no sign, exponent, NaN, infinity or unit after it.
UNITS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def billed_megapixels(header: str | None, *, job_id: str) -> Decimal | None:
    """fal's billed units as a number; None when the header is absent or malformed (logged)."""
    if header is None:
        return None
    text = header.strip()
    if UNITS.fullmatch(text) is None:
        log.warning(
            "job %s: ignoring malformed x-fal-billable-units %r; charging the probed video",
            job_id,
            header[:100],
        )
        return None
    return Decimal(text)


@dataclass(frozen=True, slots=True)
class Settlement:
    """The three prices of a job and what is captured from them."""

    billed_megapixels: Decimal | None  # None: fal sent no readable bill
    billed: Money | None
    probed_megapixels: int
    probed: Money
    charge: Money  # captured from the hold
    uncharged: Money  # billed by fal above the hold: the team pays it, the budget does not


def settle(
    *,
    job_id: str,
    hold: Money,
    billable_units: str | None,
    rendered: Rendered,
    price_per_megapixel: Decimal,
) -> Settlement:
    """Charge = fal's bill (units x price) if readable, else the probed price, at most `hold`."""
    probed = quote(rendered.width, rendered.height, rendered.num_frames, price_per_megapixel)
    units = billed_megapixels(billable_units, job_id=job_id)
    billed = None if units is None else Money.usd(units * price_per_megapixel)
    owed = probed.cost if billed is None else billed
    charge = min(owed, hold)
    uncharged = owed - charge
    if uncharged:
        log.warning(
            "job %s: %s = $%s, above the $%s hold; $%s is not charged to the budget",
            job_id,
            f"fal billed {units} MP" if units is not None else f"{probed.megapixels} MP probed",
            owed.exact_str(),
            hold.exact_str(),
            uncharged.exact_str(),
        )
    return Settlement(
        billed_megapixels=units,
        billed=billed,
        probed_megapixels=probed.megapixels,
        probed=probed.cost,
        charge=charge,
        uncharged=uncharged,
    )
