from decimal import Decimal

import pytest

from bot.money import Money
from bot.pricing import megapixels, quote


@pytest.mark.parametrize(
    ("width", "height", "frames", "mp", "cost"),
    [
        (1280, 720, 121, 112, "0.26964"),
        (1536, 896, 121, 167, "0.4020525"),
        (768, 448, 121, 42, "0.101115"),
        (1000, 1000, 1, 1, "0.0024075"),  # exactly one megapixel is not rounded up to two
        (1000, 1000, 9, 9, "0.0216675"),
        (64, 64, 9, 1, "0.0024075"),  # a sliver of a megapixel costs a whole one
    ],
)
def test_the_seed_formula_prices_exactly(width, height, frames, mp, cost):
    q = quote(width, height, frames)
    assert q.megapixels == mp
    assert q.cost.exact_str() == cost
    assert q.cost.dollars == Decimal(cost)


def test_the_seed_example_is_shown_rounded_to_cents():
    assert str(quote(1280, 720, 121).cost) == "$0.27"


def test_quote_json_carries_cost_as_a_decimal_string():
    assert quote(1280, 720, 121).as_json() == {
        "width": 1280, "height": 720, "num_frames": 121, "megapixels": 112,
        "cost_usd": "0.26964",
    }  # fmt: skip


def test_the_price_is_configurable():
    assert quote(1280, 720, 121, Decimal("0.003")).cost.exact_str() == "0.336"


def test_megapixels_are_integer_arithmetic_even_at_the_limits():
    assert megapixels(2560, 2560, 481) == -(-(2560 * 2560 * 481) // 10**6) == 3153


def test_money_rounds_fractions_of_a_nanodollar_up_and_never_floats():
    assert Money.usd("0.0000000001").nanos == 1
    assert Money.usd(Decimal("1.5")) + Money.usd("0.25") == Money.usd("1.75")
    assert str(Money.usd("1234.565")) == "$1,234.57"
    assert str(-Money.usd("0.5")) == "-$0.50"
    assert Money.usd("0").exact_str() == "0"
