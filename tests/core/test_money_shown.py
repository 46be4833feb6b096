"""How amounts are shown to people (bot.money's rule): exact below ten cents, whole cents from
ten cents up, "$0.00" only for zero; the shown text read back is within the stated precision."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.money import NANOS_PER_USD, SHOWN_EXACTLY_BELOW, Money
from bot.reports.chart import tick_label

SHOWN = re.compile(r"^(-?)\$(\d{1,3}(?:,\d{3})*)\.(\d{2,9})$")
HALF_CENT = Decimal("0.005")
# Up to a million dollars either way, dense around the ten-cent edge and tiny amounts.
amounts = st.one_of(
    st.integers(-(10**15), 10**15),
    st.integers(-2 * SHOWN_EXACTLY_BELOW, 2 * SHOWN_EXACTLY_BELOW),
    st.integers(-1000, 1000),
).map(Money)


def read_back(text: str) -> Decimal:
    """The dollars a person reads in a shown amount ("-$1,234.50" is -1234.50)."""
    match = SHOWN.match(text)
    assert match, f"{text!r} is not a shown amount"
    sign, whole, decimals = match.groups()
    value = Decimal(whole.replace(",", "") + "." + decimals)
    return -value if sign else value


@given(amounts)
def test_a_shown_amount_read_back_is_within_the_stated_precision(money: Money) -> None:
    shown = str(money)
    read = read_back(shown)
    exact = Decimal(money.nanos) / NANOS_PER_USD
    if abs(money.nanos) < SHOWN_EXACTLY_BELOW:
        assert read == exact, shown  # below ten cents: exact
    else:
        assert abs(read - exact) <= HALF_CENT and len(shown.rsplit(".", 1)[1]) == 2, shown
    assert (shown == "$0.00") == (money.nanos == 0)
    assert read_back(money.exact_text()) == exact


@given(amounts)
def test_with_exact_adds_the_exact_amount_only_when_rounding_hid_it(money: Money) -> None:
    text = money.with_exact()
    exact = Decimal(money.nanos) / NANOS_PER_USD
    if read_back(str(money)) == exact:
        assert text == str(money)
    else:
        assert text == f"{money} (exactly {money.exact_text()})"
        assert read_back(text.split("(exactly ", 1)[1].rstrip(")")) == exact


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "$0.00"),
        ("0.0096", "$0.0096"),
        ("0.0024075", "$0.0024075"),
        ("0.000000001", "$0.000000001"),
        ("0.05", "$0.05"),
        ("-0.004", "-$0.004"),
        ("0.0999999999", "$0.10"),  # a nano-dollar rounds the fraction up: ten cents
        ("0.1", "$0.10"),
        ("0.26964", "$0.27"),
        ("1234.565", "$1,234.57"),
    ],
)
def test_the_rule_on_examples(amount: str, shown: str) -> None:
    assert str(Money.usd(amount)) == shown


def test_the_usage_charts_axis_shows_ticks_as_money() -> None:
    assert tick_label(2_407_500.0) == "$0.0024075"  # a sub-cent tick, not "$0.00"
    assert tick_label(250_000_000.0) == "$0.25" and tick_label(0.0) == "$0.00"


@given(amounts)
def test_room_left_is_never_shown_as_more_than_there_is(money: Money) -> None:
    shown = money.room_text()
    read = read_back(shown)
    exact = Decimal(money.nanos) / NANOS_PER_USD
    assert read <= exact and exact - read < Decimal("0.01"), shown
    if abs(money.nanos) < SHOWN_EXACTLY_BELOW:
        assert read == exact, shown


def test_room_left_rounds_down_where_str_rounds_up() -> None:
    left = Money.usd(10) - Money.usd("0.0024075")
    assert str(left) == "$10.00" and left.room_text() == "$9.99"


@given(amounts)
def test_money_used_is_never_shown_as_less_than_it_is(money: Money) -> None:
    read = read_back(money.used_text())
    exact = Decimal(money.nanos) / NANOS_PER_USD
    assert read >= exact and read - exact < Decimal("0.01")


@given(st.integers(0, 10**6), st.integers(0, 10**15))
def test_a_whole_cent_cap_minus_what_is_shown_used_is_what_is_shown_left(
    cents: int, used_nanos: int
) -> None:
    cap, used = Money.usd(Decimal(cents) / 100), Money(used_nanos)
    left = cap - used
    if used.nanos >= SHOWN_EXACTLY_BELOW and left.nanos >= SHOWN_EXACTLY_BELOW:
        assert read_back(cap.room_text()) - read_back(used.used_text()) == read_back(
            left.room_text()
        )
