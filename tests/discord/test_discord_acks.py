"""Deferrals go out before any work and never wait behind other interactions' work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from discordkit import BOB, SMALL, Kit, png

from adapters.discord.acks import AckFirst
from bot.media import sheet_files
from tests.fakes.discord_api import objects as o


@asynccontextmanager
async def stuck_cdn(data: bytes) -> AsyncIterator[tuple[str, asyncio.Event, asyncio.Event]]:
    """A CDN whose downloads hang until released: (url, requested, release)."""
    requested, release = asyncio.Event(), asyncio.Event()

    async def serve(request: web.Request) -> web.Response:
        requested.set()
        await release.wait()
        return web.Response(body=data, content_type="image/png")

    app = web.Application()
    app.router.add_get("/sheet.png", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/sheet.png", requested, release
    finally:
        release.set()
        await runner.cleanup()


async def test_an_interaction_is_deferred_while_another_ones_download_hangs(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheet_files, "DOWNLOADS_AT_ONCE", 1)  # the hung download holds it
    data = png()
    async with stuck_cdn(data) as (url, requested, release):
        sheet = o.attachment(o.snowflake(), "sheet.png", len(data), url, "image/png")
        first = kit.slash("generate", sheet=sheet, **SMALL)
        kit.deliver(first)
        await asyncio.wait_for(requested.wait(), 5)
        assert len(kit.fake.callbacks(first)) == 1  # deferred before its work began

        second = kit.slash("generate", BOB, sheet=kit.sheet(data), **SMALL)
        kit.deliver(second)
        # Its work queues behind the hung download; its deferral does not.
        await kit.fake.wait_for(lambda: kit.fake.callbacks(second))
        assert kit.fake.callbacks(second)[0].body["type"] == 5  # deferred, "thinking"
        assert kit.runner.started == []  # nothing held yet: the slot is still taken

        release.set()
        assert "Held" in await kit.answer(first)
        assert "Held" in await kit.answer(second)
    assert len(kit.runner.started) == 2


async def test_work_waits_for_the_deferrals_on_their_way_but_not_for_ever() -> None:
    acks = AckFirst(patience=30)
    entered, leave = asyncio.Event(), asyncio.Event()

    async def deferral() -> None:
        async with acks.acknowledging():
            entered.set()
            await leave.wait()

    deferring = asyncio.create_task(deferral())
    await entered.wait()
    turn = asyncio.create_task(acks.wait_turn())
    await asyncio.sleep(0)  # one pass of the loop: the turn cannot come while one is on its way
    assert not turn.done() and acks.in_flight == 1
    leave.set()
    await asyncio.wait_for(turn, 5)
    await deferring
    assert acks.in_flight == 0

    impatient = AckFirst(patience=0)
    async with impatient.acknowledging():
        await asyncio.wait_for(impatient.wait_turn(), 5)  # gives up waiting at once
