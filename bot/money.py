"""Exact money: integer nano-dollars.

The fal price ($0.0024075 per megapixel) is not a whole number of micro-dollars, so the ledger
counts in nano-dollars (1e-9 USD). Integers add exactly in SQLite and PostgreSQL alike, and an
int64 holds more than nine billion dollars.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

NANOS_PER_USD = 1_000_000_000


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

    def __str__(self) -> str:
        """Shown to people: rounded to cents, "$0.27"."""
        cents = self.dollars.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        sign = "-" if cents < 0 else ""
        return f"{sign}${abs(cents):,.2f}"

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
