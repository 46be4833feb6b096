"""Exact money: integer nano-dollars.

The fal price ($0.0024075 per megapixel) is not a whole number of micro-dollars, so the ledger
counts in nano-dollars (1e-9 USD). Integers add exactly in SQLite and PostgreSQL alike, and an
int64 holds more than nine billion dollars.

How people see an amount (`str(money)`, the one formatting every reply, refusal, refund line and
`budget` goes through, on every platform):
- zero is "$0.00";
- from ten cents up (either sign) it is rounded to whole cents, half up, with thousands
  separators: "$0.27" for $0.26964, "-$1,234.50";
- below ten cents (either sign, not zero) it is exact, trailing zeros dropped but at least two
  decimals: "$0.05", "$0.0096", "$0.0024075", "-$0.000000001". Nano-dollars have at most nine
  decimals, so this is never rounded and a non-zero amount never shows as "$0.00".
`with_exact()` adds the exact amount after a rounded one, "$0.40 (exactly $0.4020525)", for
prices and thresholds; `exact_text()` is the exact amount alone, "$0.4020525".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

NANOS_PER_USD = 1_000_000_000
SHOWN_EXACTLY_BELOW = 100_000_000  # ten cents: smaller amounts are shown exactly, not in cents
_CENT = 10_000_000


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An amount of US dollars held as integer nano-dollars."""

    nanos: int

    @classmethod
    def usd(cls, amount: Decimal | str | int) -> Money:
        """Exact conversion; a fraction of a nano-dollar is rounded up (never undercharge)."""
        value = Decimal(amount) * NANOS_PER_USD
        return cls(int(value.to_integral_value(rounding=ROUND_CEILING)))

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @property
    def dollars(self) -> Decimal:
        """The exact amount as a Decimal, without trailing zeros (0.26964, not 0.269640000)."""
        exact = Decimal(self.nanos) / NANOS_PER_USD
        return exact.normalize() if exact else Decimal("0")

    def exact_str(self) -> str:
        """A plain decimal string such as "0.26964" (never exponent notation)."""
        return format(self.dollars, "f")

    @property
    def is_shown_exactly(self) -> bool:
        """Whether `str()` shows the exact amount (below ten cents, or a whole number of cents)."""
        return abs(self.nanos) < SHOWN_EXACTLY_BELOW or self.nanos % _CENT == 0

    def __str__(self) -> str:
        """Shown to people (the rule is in the module docstring): "$0.27", "$0.0096"."""
        if 0 < abs(self.nanos) < SHOWN_EXACTLY_BELOW:
            return self.exact_text()
        cents = abs(self.dollars).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{self._sign}${cents:,.2f}"

    def room_text(self) -> str:
        """Room left, as shown to people: never more than there is. Rounded down to cents from
        ten cents up ("$9.99" for $9.9975925, where `str` would round up to "$10.00"), exact
        below."""
        return self._toward(ROUND_FLOOR)

    def used_text(self) -> str:
        """Money spent or held, as shown beside room left: never less than it is (rounded up to
        cents from ten cents up), so that a whole-cent cap minus what is shown used is what is
        shown left ("$1.00 cap, $0.81 in flight, $0.19 left" for $0.804105 held)."""
        return self._toward(ROUND_CEILING)

    def _toward(self, rounding: str) -> str:
        if 0 < abs(self.nanos) < SHOWN_EXACTLY_BELOW:
            return self.exact_text()
        cents = self.dollars.quantize(Decimal("0.01"), rounding=rounding)
        return f"{'-' if cents < 0 else ''}${abs(cents):,.2f}"

    def exact_text(self) -> str:
        """The exact amount for people, at least two decimals: "$0.4020525", "$1,234.50"."""
        exact = abs(self.dollars)
        cents = exact.quantize(Decimal("0.01"))
        return f"{self._sign}${cents if cents == exact else exact:,f}"

    def with_exact(self) -> str:
        """The shown amount, then the exact one when rounding hid it: "$0.40 (exactly
        $0.4020525)", but just "$0.0096" or "$1.00"."""
        if self.is_shown_exactly:
            return str(self)
        return f"{self} (exactly {self.exact_text()})"

    @property
    def _sign(self) -> str:
        return "-" if self.nanos < 0 else ""

    def __add__(self, other: Money) -> Money:
        return Money(self.nanos + other.nanos)

    def __sub__(self, other: Money) -> Money:
        return Money(self.nanos - other.nanos)

    def __mul__(self, factor: int) -> Money:
        return Money(self.nanos * factor)

    def __neg__(self) -> Money:
        return Money(-self.nanos)

    def __bool__(self) -> bool:
        return self.nanos != 0
