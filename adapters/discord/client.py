"""discord.py's client for the bot: guilds only, the command tree, persistent buttons and forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
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

    def __init__(self, presser: DiscordAdapter) -> None:
        super().__init__(intents=INTENTS)
        self.ltx_presser = presser
        self.tree = app_commands.CommandTree(self)

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
