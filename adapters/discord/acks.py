"""Acknowledgements before work: Discord fails an interaction not deferred within 3 seconds.

Every interaction is deferred before anything else is done for it. In a burst, the deferrals
still in flight share the event loop with the work of those already deferred (database
writes, downloads, replies); `AckFirst` makes that work wait until no deferral is on its way,
so the 200th deferral of a burst is not queued behind 199 commands' work. The wait is bounded
(`patience`), so a steady stream of interactions cannot starve the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

PATIENCE_SECONDS = 0.5


class AckFirst:
    """Counts acknowledgements on their way; work waits for none to be left."""

    def __init__(self, patience: float = PATIENCE_SECONDS) -> None:
        self.patience = patience
        self.in_flight = 0
        self._none_left = asyncio.Event()
        self._none_left.set()

    @asynccontextmanager
    async def acknowledging(self) -> AsyncIterator[None]:
        """Around one deferral (or other first response)."""
        self.in_flight += 1
        self._none_left.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._none_left.set()

    async def wait_turn(self) -> None:
        """Before an interaction's work: let the deferrals on their way go first."""
        if self.in_flight:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._none_left.wait(), self.patience)
