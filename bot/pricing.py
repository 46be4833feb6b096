"""The seed's price formula: megapixels of width x height x frames, rounded up."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.money import Money

DEFAULT_PRICE_PER_MEGAPIXEL = Decimal("0.0024075")


@dataclass(frozen=True, slots=True)
class Quote:
    """What a generation of a known size costs, before anything is held."""

    width: int
    height: int
    num_frames: int
    megapixels: int
    price_per_megapixel: Decimal
    cost: Money

    def as_json(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "num_frames": self.num_frames,
            "megapixels": self.megapixels,
            "cost_usd": self.cost.exact_str(),
        }


def megapixels(width: int, height: int, num_frames: int) -> int:
    """ceil(width x height x frames / 1,000,000) in integers, so nothing rounds twice."""
    return -(-(width * height * num_frames) // 1_000_000)


def quote(
    width: int,
    height: int,
    num_frames: int,
    price_per_megapixel: Decimal = DEFAULT_PRICE_PER_MEGAPIXEL,
) -> Quote:
    mp = megapixels(width, height, num_frames)
    return Quote(
        width=width,
        height=height,
        num_frames=num_frames,
        megapixels=mp,
        price_per_megapixel=price_per_megapixel,
        cost=Money.usd(price_per_megapixel * mp),
    )
