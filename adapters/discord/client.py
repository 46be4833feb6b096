"""discord.py's client for the bot: guilds only, the command tree, persistent buttons and forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
import yarl
from discord import app_commands

from adapters.discord.animate import animated_message
from adapters.discord.render import JobButton
from adapters.discord.sheet_forms import sheet_form_command

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

# Guilds only: no privileged intent. Slash commands, menus and buttons arrive as interactions,
# which carry the options, the target message and the attachment without Message Content.
INTENTS = discord.Intents.none()
INTENTS.guilds = True


class LtxClient(discord.AutoShardedClient):
    """discord.py's sharded client, with the command tree and persistent buttons attached."""

    def __init__(
        self, presser: DiscordAdapter, *, shards: tuple[list[int], int] | None = None
    ) -> None:
        # Replicas split the gateway: each opens sessions only for its own shards (Discord
        # routes a guild's events to shard (guild_id >> 22) % count); None runs every shard.
        if shards is None:
            super().__init__(intents=INTENTS)
        else:
            ids, count = shards
            super().__init__(intents=INTENTS, shard_ids=ids, shard_count=count)
        self.ltx_presser = presser
        self.tree = app_commands.CommandTree(self)

    async def launch_shards(self) -> None:
        # Given a count, discord.py skips `/gateway/bot` and dials the built-in gateway host;
        # Discord asks clients to use the URL it names there (and tests name the fake's).
        if self.shard_count is None or self.is_closed():
            await super().launch_shards()
            return
        _recommended, url, _limits = await self.http.get_bot_gateway()
        shard_ids = self.shard_ids or list(range(self.shard_count))
        self._connection.shard_count = self.shard_count
        self._connection.shard_ids = shard_ids
        for shard_id in shard_ids:
            await self.launch_shard(yarl.URL(url), shard_id, initial=shard_id == shard_ids[0])

    async def setup_hook(self) -> None:
        # Buttons on old messages are matched by their custom_id pattern: restarts are fine.
        self.add_dynamic_items(JobButton)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # Modals likewise: the "Animate with LTX" form is matched by its custom_id.
        if interaction.type is discord.InteractionType.modal_submit:
            message_id = animated_message(interaction.data)
            if message_id is not None:
                await self.ltx_presser.on_modal(interaction, message_id)
            sheet_form = sheet_form_command(interaction.data)
            if sheet_form is not None:  # `/ltx sheet`'s forms: generate from it, or save it
                await self.ltx_presser.run_command(interaction, *sheet_form)
