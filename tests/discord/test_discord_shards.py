"""Replicas split Discord's gateway by shard: each adapter identifies only for its own shards,
and the fake gateway routes a guild's events to shard (guild_id >> 22) % count, as Discord does.
A replica with the gateway off still logs in and posts through REST."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from discordkit import ALICE, settings_for

from adapters.app.core import build_core
from adapters.console.doctor_platforms import discord_checks
from adapters.discord import DiscordAdapter
from bot.errors import ConfigurationError
from bot.settings import load_settings
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api.server import FakeDiscord

# (id >> 22) % 2: the first guild is shard 1's, the second shard 0's.
GUILD_ONE, CHANNEL_ONE = "900000000000000001", "900000000000000002"
GUILD_ZERO, CHANNEL_ZERO = "900000000004194305", "900000000004194306"


@asynccontextmanager
async def replica(
    stack: AsyncExitStack, fake: FakeDiscord, data_dir: Path, **overrides: Any
) -> AsyncIterator[DiscordAdapter]:
    """One replica's core and Discord adapter on the fake, started, its guilds available."""
    settings = settings_for(
        fake, data_dir, discord_guild_ids=f"{GUILD_ONE},{GUILD_ZERO}", **overrides
    )
    core = await stack.enter_async_context(build_core(settings, with_fal=False))
    adapter = DiscordAdapter(settings, core.commands, store=core.storage.keyvalue)
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    adapter.client.on_ready = on_ready  # type: ignore[method-assign]
    await adapter.start()
    try:
        if adapter._gateway:
            await asyncio.wait_for(ready.wait(), 5)
        yield adapter
    finally:
        await adapter.close()


async def estimate_in(fake: FakeDiscord, channel: str) -> tuple[int, dict[str, Any]]:
    payload = fake.interaction(
        ix.APPLICATION_COMMAND, channel, ALICE, ix.slash_data("ltx", "estimate", {})
    )
    return await fake.gateway.dispatch("INTERACTION_CREATE", payload), payload


async def test_two_replicas_split_the_shards_and_each_answers_its_own_guilds(
    tmp_path: Path,
) -> None:
    async with FakeDiscord() as fake, AsyncExitStack() as stack:
        fake.add_channel(CHANNEL_ONE, GUILD_ONE)
        fake.add_channel(CHANNEL_ZERO, GUILD_ZERO)
        zero = await stack.enter_async_context(
            replica(stack, fake, tmp_path / "a", discord_shard_ids="0", discord_shard_count=2)
        )
        one = await stack.enter_async_context(
            replica(stack, fake, tmp_path / "b", discord_shard_ids="1", discord_shard_count=2)
        )
        assert sorted(i["shard"] for i in fake.gateway.identifies) == [[0, 2], [1, 2]]
        assert len(fake.gateway.live_sessions()) == 2  # one session per shard, not per replica
        # Each replica's cache holds only its shard's guild (GUILD_CREATE went to that shard).
        assert [g.id for g in zero.client.guilds] == [int(GUILD_ZERO)]
        assert [g.id for g in one.client.guilds] == [int(GUILD_ONE)]
        assert await zero.connected() and await one.connected()

        for channel in (CHANNEL_ZERO, CHANNEL_ONE):
            reached, payload = await estimate_in(fake, channel)
            assert reached == 1  # exactly one session, the guild's shard, got it
            edits = await fake.wait_for(
                lambda p=payload: [c for c in fake.webhook_calls(p) if c.method == "PATCH"]
            )
            assert "would cost" in edits[-1].body["content"]
            assert len(fake.callbacks(payload)) == 1  # deferred once: one replica answered


async def test_a_replica_with_the_gateway_off_opens_no_session_but_posts_through_rest(
    tmp_path: Path,
) -> None:
    async with FakeDiscord() as fake, AsyncExitStack() as stack:
        fake.add_channel(CHANNEL_ONE, GUILD_ONE)
        rest_only = await stack.enter_async_context(
            replica(stack, fake, tmp_path, discord_gateway=False)
        )
        assert await rest_only.connected()  # logged in, commands synced: ready for /readyz
        assert fake.gateway.sessions == []
        # What the poster does with the bot token, whatever replica took the command.
        channel = rest_only.poster._channel(CHANNEL_ONE)
        await channel.send(content="a finished video's post")
        assert any(m["content"] == "a finished video's post" for m in fake.messages.values())
        with pytest.raises(RuntimeError, match="no gateway session"):
            await estimate_in(fake, CHANNEL_ONE)


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({"discord_shard_ids": "0"}, "LTXBOT_DISCORD_SHARD_IDS: set LTXBOT_DISCORD_SHARD_COUNT"),
        ({"discord_shard_count": 2}, "LTXBOT_DISCORD_SHARD_IDS: set the shards of this"),
        ({"discord_shard_ids": "0,2", "discord_shard_count": 2}, "shard 2 is outside 0-1"),
        ({"discord_shard_ids": "one", "discord_shard_count": 2}, "'one' is not a shard number"),
        ({"discord_shard_ids": "0", "discord_shard_count": 0}, "LTXBOT_DISCORD_SHARD_COUNT:"),
    ],
)
def test_bad_shard_settings_are_one_line_naming_the_setting(
    values: dict[str, object], line: str
) -> None:
    with pytest.raises(ConfigurationError, match=line) as caught:
        load_settings(_env_file=None, **values)
    assert "\n" not in str(caught.value)


def test_shard_settings_read_as_ids_and_count() -> None:
    settings = load_settings(_env_file=None, discord_shard_ids="2, 0", discord_shard_count=3)
    assert settings.discord_shards == ([0, 2], 3)
    assert load_settings(_env_file=None).discord_shards is None


async def test_doctor_names_this_replicas_shards_and_a_count_below_discords(
    tmp_path: Path,
) -> None:
    async with FakeDiscord() as fake:
        fake.recommended_shards = 2
        checks = await discord_checks(
            settings_for(fake, tmp_path, discord_shard_ids="1", discord_shard_count=2)
        )
        assert checks[-1].ok and checks[-1].detail == "shards 1 of 2 (Discord recommends 2)"
        fake.recommended_shards = 4
        [*_, few] = await discord_checks(
            settings_for(fake, tmp_path, discord_shard_ids="0", discord_shard_count=2)
        )
        assert not few.ok and "Discord asks for 4" in few.detail
        assert "LTXBOT_DISCORD_SHARD_COUNT to 4" in few.fix
        [*_, rest] = await discord_checks(settings_for(fake, tmp_path, discord_gateway=False))
        assert rest.ok and "REST only" in rest.detail
        names = [c.name for c in await discord_checks(settings_for(fake, tmp_path))]
        assert names == ["discord", "discord intents"]  # one replica, every shard: no line
