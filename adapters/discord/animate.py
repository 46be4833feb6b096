"""The "Animate with LTX" message context menu and the modal it opens, persistent: its submit
is understood by custom_id in any process of the bot (`DiscordAdapter.on_modal`).

The menu needs a message with an image attached; the modal asks for the prompt and a few main
options (the rest keep their defaults; `/ltx generate` has them all).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import aiohttp
import discord
from pydantic import BaseModel

from adapters.discord.translate import first_image, url_reader
from bot.model import Attachment
from bot.ports import KeyValueStore
from commands.spec import REQUEST_OPTIONS

MENU_NAME = "Animate with LTX"
NO_IMAGE = (
    "That message has no image attached. Use this on a message that carries a reference "
    "sheet (PNG, JPEG or WebP), or run `/ltx generate` with the sheet attached."
)
# The modal's custom_id names the message; what a submit needs of it (the image's URL) is kept
# in the KeyValueStore, so a modal opened before a restart (or on another replica) still works.
MODAL_ID = re.compile(r"ltx:animate:(?P<message_id>[0-9]{1,20})")
KEEP_SECONDS = 24 * 3600  # Discord's signed attachment URLs last about a day
EXPIRED = (
    "This form has expired. Use \u201cAnimate with LTX\u201d on the message again, or run "
    "`/ltx generate` with the sheet attached."
)
MAX_PROMPT = 4000  # a modal text input holds at most 4000 characters
# The sizes the slash command suggests first.
SIZES = next(option.choices for option in REQUEST_OPTIONS if option.name == "resolution")


class Target(BaseModel, frozen=True):
    """The message a modal animates and its image, as kept between opening and submitting
    (pydantic: the stored JSON is read back checked)."""

    message_id: str
    url: str
    filename: str
    content_type: str | None
    size: int | None

    @classmethod
    def of(cls, message: discord.Message, image: discord.Attachment) -> Target:
        return cls(
            message_id=str(message.id),
            url=image.url,
            filename=image.filename,
            content_type=image.content_type,
            size=image.size,
        )

    def attachment(self, session: Callable[[], aiohttp.ClientSession]) -> Attachment:
        """The image as the core reads it: downloaded when asked, at most `limit + 1` bytes."""
        reader = url_reader(self.url, session)
        return Attachment(self.filename, self.content_type, self.size, reader)


def _key(message_id: str) -> str:
    return f"discord:animate:{message_id}"


async def remember(store: KeyValueStore, target: Target) -> None:
    await store.save(
        key=_key(target.message_id),
        value=target.model_dump_json(),
        ttl_seconds=KEEP_SECONDS,
    )


async def recall(store: KeyValueStore, message_id: str) -> Target | None:
    raw = await store.load(key=_key(message_id))
    return None if raw is None else Target.model_validate_json(raw)


def animated_message(data: object) -> str | None:
    """The message id a submitted "Animate with LTX" form names (`interaction.data`), or None
    for any other modal."""
    custom_id = data.get("custom_id") if isinstance(data, Mapping) else None
    match = MODAL_ID.fullmatch(str(custom_id or ""))
    return None if match is None else match["message_id"]


def modal_values(data: object) -> dict[str, str]:
    """The text inputs of a submitted modal (`interaction.data`) by custom_id, wherever they
    sit: in Label components or in the older action rows."""
    values: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            if "custom_id" in node and "value" in node:
                values[str(node["custom_id"])] = str(node["value"] or "").strip()
            walk(node.get("components"))
            walk(node.get("component"))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return values


class AnimateModal(discord.ui.Modal, title=MENU_NAME):
    """Prompt, resolution, duration, seed and negative prompt for one image message. Its submit
    is handled by custom_id (`on_submit` below), not by this object, which dies with the process."""

    def __init__(self, message_id: str):
        super().__init__(timeout=None, custom_id=f"ltx:animate:{message_id}")
        fields: dict[str, discord.ui.TextInput[AnimateModal]] = {
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
        for key, field in fields.items():
            self.add_item(discord.ui.Label(text=labels[key], component=field))
        # Finished before it is sent: discord.py then keeps no in-memory handler for it, and
        # every submit, before or after a restart, goes the one way (the custom_id).
        self.stop()


def context_menu(store: KeyValueStore) -> discord.app_commands.ContextMenu:
    @discord.app_commands.guild_only()
    async def animate(interaction: discord.Interaction, message: discord.Message) -> None:
        image = first_image(message)
        if image is None:
            await interaction.response.send_message(NO_IMAGE, ephemeral=True)
            return
        # Discord allows 3 s to answer; the save is one small write.
        await remember(store, Target.of(message, image))
        await interaction.response.send_modal(AnimateModal(str(message.id)))

    return discord.app_commands.ContextMenu(name=MENU_NAME, callback=animate)
