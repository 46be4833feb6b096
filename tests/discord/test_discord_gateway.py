"""The real `DiscordAdapter.start()`: discord.py's AutoShardedClient asks `/gateway/bot`, opens
the fake gateway's websocket (zlib-stream), identifies, and gets its interactions from there."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import discord
import pytest
from discordkit import ALICE, CHANNEL, GUILD, settings_for

from adapters.app.core import build_core
from adapters.discord import DiscordAdapter
from tests.fakes.discord_api import gateway as gw
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api.server import FakeDiscord


@asynccontextmanager
async def connected(tmp_path: Path) -> AsyncIterator[tuple[FakeDiscord, DiscordAdapter]]:
    """A fake Discord and the real adapter on it, gateway on, with its guild available."""
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        settings = settings_for(fake, tmp_path)
        async with build_core(settings, with_fal=False) as core:
            adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue)
            available = asyncio.Event()

            async def on_guild_available(guild: discord.Guild) -> None:
                if guild.id == int(GUILD):
                    available.set()

            # discord.py calls `on_<event>` attributes of the client: GUILD_CREATE was parsed.
            adapter.client.on_guild_available = on_guild_available  # type: ignore[attr-defined]
            await adapter.start()
            try:
                await asyncio.wait_for(available.wait(), 5)
                yield fake, adapter
            finally:
                await adapter.close()


async def test_identifies_with_guilds_only_and_answers_an_interaction_from_the_socket(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    async with connected(tmp_path) as (fake, adapter):
        [session] = fake.gateway.live_sessions()
        [identify] = fake.gateway.identifies
        assert session.query == {"encoding": "json", "v": "10", "compress": "zlib-stream"}
        assert session.compressor is not None  # so every frame really went through zlib
        assert identify["token"] == fake.token
        assert identify["intents"] == discord.Intents(guilds=True).value == gw.GUILDS
        assert not identify["intents"] & gw.PRIVILEGED_INTENTS
        assert identify["shard"] == [0, 1]
        assert session.heartbeats  # discord.py beats at once on HELLO; the fake acks with op 11
        assert adapter.client.user is not None and str(adapter.client.user.id) == fake.bot["id"]
        assert adapter.client.get_channel(int(CHANNEL)) is not None  # from GUILD_CREATE

        data = ix.slash_data("ltx", "estimate", {"num_frames": 121})
        payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data)
        assert await fake.gateway.dispatch("INTERACTION_CREATE", payload) == 1
        edits = await fake.wait_for(
            lambda: [c for c in fake.webhook_calls(payload) if c.method == "PATCH"]
        )
        [defer] = fake.callbacks(payload)
        assert defer.body["type"] == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        assert "would cost" in edits[-1].body["content"]
        assert edits[-1].path.endswith("/messages/@original")
    assert session.close_code == 1000  # close() said goodbye; it did not drop the socket
    assert adapter._gateway_task is not None and adapter._gateway_task.done()
    assert not [r for r in caplog.records if r.name.startswith(("adapters", "discord"))]


async def test_a_resumed_session_still_gets_its_interactions(tmp_path: Path) -> None:
    async with connected(tmp_path) as (fake, _adapter):
        [first] = fake.gateway.live_sessions()
        await fake.gateway.reconnect()  # op 7: discord.py closes and RESUMEs at resume_gateway_url
        resumed = await fake.wait_for(
            lambda: [s for s in fake.gateway.live_sessions() if s.resumed], timeout=5
        )
        assert resumed[0].session_id == first.session_id
        assert len(fake.gateway.identifies) == 1  # resumed, not identified again
        payload = fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                   ix.slash_data("ltx", "budget", {}))  # fmt: skip
        await fake.gateway.dispatch("INTERACTION_CREATE", payload)
        edits = await fake.wait_for(
            lambda: [c for c in fake.webhook_calls(payload) if c.method == "PATCH"]
        )
        assert "$" in edits[-1].body["content"]


async def test_a_privileged_intent_is_refused_as_discord_does(tmp_path: Path) -> None:
    """Why "Guilds only" matters: Discord closes with 4014 unless the portal enabled it."""
    async with FakeDiscord() as fake:
        fake.add_channel(CHANNEL, GUILD)
        discord.http.Route.BASE = fake.api_url  # as DiscordAdapter does
        intents = discord.Intents(guilds=True, message_content=True)
        client = discord.AutoShardedClient(intents=intents)
        try:
            await client.login(fake.token)
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await asyncio.wait_for(client.connect(), 5)
        finally:
            await client.close()
        assert [s.close_code for s in fake.gateway.sessions] == [4014]
        assert fake.gateway.identifies == []
