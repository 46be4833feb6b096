"""`KeyValueStore`: small shared records (installations, OAuth state, "already handled" claims)."""

from __future__ import annotations

from typing import Protocol


class KeyValueStore(Protocol):
    """Named records that may expire, and one-time claims. An adapter keeps its installations
    and its dedup marks here; a store shared by every replica makes a claim hold across them."""

    async def load(self, *, key: str) -> str | None:
        """The value stored under `key`, or None (also once it has expired)."""
        ...

    async def save(self, *, key: str, value: str, ttl_seconds: float | None = None) -> None:
        """Store or replace `value` under `key`; it disappears after `ttl_seconds` if given."""
        ...

    async def claim(self, *, key: str, value: str = "", ttl_seconds: float | None = None) -> bool:
        """Store `value` only if `key` is absent (or expired): True for the one caller that got
        it, however many race for it."""
        ...

    async def discard(self, *, key: str) -> bool:
        """Remove `key`; True if it was there (OAuth state is consumed this way, once)."""
        ...

    async def discard_prefix(self, *, prefix: str) -> int:
        """Remove every key starting with `prefix`; returns how many went."""
        ...

    async def items(self, *, prefix: str) -> list[tuple[str, str]]:
        """Every live (key, value) whose key starts with `prefix`, by key."""
        ...
