"""Numbers read off values typed loosely: user options, and bounds as pydantic declares them."""

from __future__ import annotations

from typing import SupportsFloat, SupportsIndex


def as_float(value: object) -> float:
    """`float(value)` for what float() takes (text, a number); a TypeError for anything else."""
    if isinstance(value, str | bytes | bytearray | SupportsFloat | SupportsIndex):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a number")


def real_or_none(value: object) -> float | None:
    """An int or a float as it is (a bound, a default); None for anything else."""
    return value if isinstance(value, int | float) else None
