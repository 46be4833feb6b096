"""Shared reads: concurrent callers asking for the same key get the result of one query.

Every caller is answered by a read that *began after it asked*: a caller arriving while a read
is in flight waits for the next one. So a shared read is never staler than the caller's own
read would have been: whatever was committed before the caller asked (an admin's new cap, on
any replica) is in its answer. Only the number of queries changes: one per key per wave of
callers, instead of one per caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedReads(Generic[K, V]):
    """`await reads.get(key)` runs `load(key)` once for every caller waiting at that moment."""

    def __init__(self, load: Callable[[K], Awaitable[V]]) -> None:
        self._load = load
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._readers: dict[K, asyncio.Task[None]] = {}

    async def get(self, key: K) -> V:
        """The value for `key`, read after this call began."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        reader = self._readers.get(key)
        if reader is not None and reader.get_loop() is not loop:
            self._waiting.pop(key, None)  # left by an event loop that is gone
            reader = None
        self._waiting.setdefault(key, []).append(future)
        if reader is None or reader.done():
            self._readers[key] = loop.create_task(self._read(key))
        return await future

    async def close(self) -> None:
        """Cancel every reader and wait for it; its waiting callers end cancelled."""
        readers = list(self._readers.values())
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    async def _read(self, key: K) -> None:
        try:
            while waiting := [f for f in self._waiting.pop(key, []) if not f.done()]:
                try:
                    value = await self._load(key)
                except asyncio.CancelledError:
                    for future in waiting:
                        future.cancel()
                    raise
                except Exception as error:
                    for future in waiting:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for future in waiting:
                    if not future.done():
                        future.set_result(value)
        finally:
            self._readers.pop(key, None)
            for future in self._waiting.pop(key, []):  # only left when cancelled
                future.cancel()
