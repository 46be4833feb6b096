"""The small storage port the Slack adapter needs: named records and one-time claims.

Installations (OAuth), OAuth state and "this request was already handled" markers all fit in
it. The port itself is `bot.ports.KeyValueStore` (re-exported here), so that storage can
implement it without knowing any adapter. `MemoryKeyValueStore` serves one process (or tests);
several replicas, or one that restarts, need `storage.Storage.keyvalue` (the database), because
a Slack retry may land on another replica or after a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.ports import KeyValueStore

__all__ = ["SWEEP_EVERY", "KeyValueStore", "MemoryKeyValueStore"]


SWEEP_EVERY = 256


class MemoryKeyValueStore:
    """A process-local `KeyValueStore` (one process, or tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[str, float | None]] = {}
        self._writes = 0

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._items.get(key)
        if item is not None and item[1] is not None and item[1] <= self._clock():
            del self._items[key]
            return None
        return item

    def _expiry(self, ttl_seconds: float | None) -> float | None:
        # Every write may leave expired keys behind (each request claims one): sweep now and then.
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            now = self._clock()
            for key in [k for k, (_, end) in self._items.items() if end is not None and end <= now]:
                del self._items[key]
        return None if ttl_seconds is None else self._clock() + ttl_seconds

    async def load(self, *, key: str) -> str | None:
        item = self._live(key)
        return None if item is None else item[0]

    async def save(self, *, key: str, value: str, ttl_seconds: float | None = None) -> None:
        self._items[key] = (value, self._expiry(ttl_seconds))

    async def claim(self, *, key: str, value: str = "", ttl_seconds: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        self._items[key] = (value, self._expiry(ttl_seconds))
        return True

    async def discard(self, *, key: str) -> bool:
        return self._live(key) is not None and self._items.pop(key, None) is not None

    async def items(self, *, prefix: str) -> list[tuple[str, str]]:
        keys = sorted(key for key in self._items if key.startswith(prefix))
        return [(key, item[0]) for key in keys if (item := self._live(key)) is not None]

    async def discard_prefix(self, *, prefix: str) -> int:
        doomed = [key for key in self._items if key.startswith(prefix)]
        for key in doomed:
            del self._items[key]
        return len(doomed)
