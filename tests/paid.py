"""A whole core whose gateway talks to a simulated fal as if it were the real, paid one: the
runner holds, captures and releases real money on it (`simulated` is off)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.app.core import Core, build_core
from bot.fal.on_simulated import gateway_on_simulated
from bot.fal.retry import RetryPolicy
from bot.fal.simulated import SimulatedFal
from bot.settings import Settings

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)


@asynccontextmanager
async def paid_core_on(settings: Settings, fal: SimulatedFal) -> AsyncIterator[Core]:
    gateway = gateway_on_simulated(settings, fal, retry=FAST_RETRY)
    gateway.simulated = False
    try:
        async with build_core(settings, gateway=gateway, poll_interval=0.05) as core:
            yield core
    finally:
        await gateway.aclose()
