"""`serve` (what `ltxbot run` runs) started for a test on the simulated fal, stopped after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from adapters.app.core import Core, serve
from bot.settings import Settings

FAST_FAL = {"generation_seconds": 0.1, "queue_seconds": 0.05}


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Core]:
    """The core once every adapter has started; `serve` must return when the block ends."""
    stop = asyncio.Event()
    started: asyncio.Future[Core] = asyncio.get_running_loop().create_future()

    async def on_started(core: Core) -> None:
        started.set_result(core)

    task = asyncio.create_task(
        serve(settings, stop, poll_interval=0.05, simulated_fal_options=FAST_FAL,
              on_started=on_started)
    )  # fmt: skip
    try:
        await asyncio.wait({started, task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # serve ended before starting: show why
        yield started.result()
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 15) is None


async def get(core: Core, path: str) -> tuple[int, str]:
    """GET a path of the bot's HTTP port: the status and the body."""
    url = f"http://127.0.0.1:{core.http_port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()
