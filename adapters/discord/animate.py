"""The "Animate with LTX" message context menu and the modal it opens.

The menu needs a message with an image attached; the modal asks for the prompt and a few main
options (the rest keep their defaults; `/ltx generate` has them all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from adapters.discord.translate import first_image
from commands.spec import REQUEST_OPTIONS

MENU_NAME = "Animate with LTX"
NO_IMAGE = (
    "That message has no image attached. Use this on a message that carries a reference "
    "sheet (PNG, JPEG or WebP), or run `/ltx generate` with the sheet attached."
)
Submit = Callable[
    [discord.Interaction, discord.Message, discord.Attachment, dict[str, str]], Awaitable[None]
]
MAX_PROMPT = 4000  # a modal text input holds at most 4000 characters
# The sizes the slash command suggests first.
SIZES = next(option.choices for option in REQUEST_OPTIONS if option.name == "resolution")


class AnimateModal(discord.ui.Modal, title=MENU_NAME):
    """Prompt, resolution, duration, seed and negative prompt for one image message."""

    def __init__(self, message: discord.Message, image: discord.Attachment, submit: Submit):
        super().__init__(timeout=15 * 60)
        self.message, self.image, self.submit = message, image, submit
        self.fields: dict[str, discord.ui.TextInput[AnimateModal]] = {
            "prompt": discord.ui.TextInput(
                style=discord.TextStyle.paragraph, max_length=MAX_PROMPT, custom_id="prompt"
            ),
            "resolution": discord.ui.TextInput(
                required=False,
                max_length=20,
                placeholder=", ".join(SIZES[:4]) + "…",
                custom_id="resolution",
            ),
            "duration": discord.ui.TextInput(
                required=False, max_length=6, placeholder="seconds, e.g. 5", custom_id="duration"
            ),
            "seed": discord.ui.TextInput(
                required=False,
                max_length=10,
                custom_id="seed",
                placeholder="empty: a new one each time",
            ),
            "negative_prompt": discord.ui.TextInput(
                required=False,
                max_length=MAX_PROMPT,
                style=discord.TextStyle.paragraph,
                custom_id="negative_prompt",
            ),
        }
        labels = {
            "prompt": "What happens in the video",
            "resolution": "Size (optional)",
            "duration": "Length in seconds (optional)",
            "seed": "Seed (optional)",
            "negative_prompt": "What to steer away from (optional)",
        }
        for key, field in self.fields.items():
            self.add_item(discord.ui.Label(text=labels[key], component=field))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        values = {key: field.value.strip() for key, field in self.fields.items()}
        await self.submit(interaction, self.message, self.image, values)


def context_menu(submit: Submit) -> discord.app_commands.ContextMenu:
    @discord.app_commands.guild_only()
    async def animate(interaction: discord.Interaction, message: discord.Message) -> None:
        image = first_image(message)
        if image is None:
            await interaction.response.send_message(NO_IMAGE, ephemeral=True)
            return
        await interaction.response.send_modal(AnimateModal(message, image, submit))

    return discord.app_commands.ContextMenu(name=MENU_NAME, callback=animate)
