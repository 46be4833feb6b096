"""`bot.ports.JobSignals` inside one process: SQLite's embedded, single-process deployment.

Every replica is this process, so a signal is a call to the listeners on the event loop.
"""

from __future__ import annotations

import asyncio

from bot.ports import OnSignal


class LocalJobSignals:
    """Signals between the tasks of one process; nothing is ever missed, so no gap."""

    def __init__(self) -> None:
        self._listeners: list[OnSignal] = []

    async def notify(self, job_id: str) -> None:
        loop = asyncio.get_running_loop()
        for on_signal in list(self._listeners):
            loop.call_soon(on_signal, job_id)  # as a database would: after the caller goes on

    async def listen(self, on_signal: OnSignal) -> None:
        self._listeners.append(on_signal)

    async def close(self) -> None:
        self._listeners.clear()
