"""Discord interactions in, neutral types out: Actor, Place, Attachment, options.

Nothing here decides anything: who is an admin comes from Discord's own permission bits (Manage
Server) or the configured admin role; budgets and prices stay in the core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import discord

from adapters.discord.facts import delivery_problems
from bot.errors import InvalidSheet
from bot.model import Actor, Attachment, Place, Platform

THREAD_TYPES = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)
CHUNK = 64 * 1024


def is_admin(interaction: discord.Interaction, admin_role: str | None) -> bool:
    """Manage Server (or Administrator) in this guild, or the configured role (id or name).

    `interaction.permissions` is what Discord computed for the member, so no role cache is
    needed."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    if not admin_role:
        return False
    # Role ids come with the interaction even when the guild's roles are not cached.
    role_ids = {str(role_id) for role_id in member._roles}
    names = {role.name for role in member.roles}
    return admin_role in role_ids or admin_role in names


def actor_of(interaction: discord.Interaction, admin_role: str | None) -> Actor:
    user = interaction.user
    roles = tuple(str(r) for r in getattr(user, "_roles", ()))
    return Actor(
        Platform.DISCORD,
        str(interaction.guild_id or f"dm-{user.id}"),
        str(user.id),
        user.display_name,
        roles=roles,
        is_admin=is_admin(interaction, admin_role),
    )


def place_of(interaction: discord.Interaction) -> Place:
    """Inside a thread the job lives in that thread, and its parent is the channel. The
    interaction's `app_permissions` (the bot's, right there) say whether a result can be
    posted back; a `delivery_problem` makes the commands refuse before holding anything."""
    channel = interaction.channel
    scope = str(interaction.guild_id or f"dm-{interaction.user.id}")
    channel_id = str(interaction.channel_id or (channel.id if channel is not None else ""))
    in_thread = channel is not None and getattr(channel, "type", None) in THREAD_TYPES
    problem = inline = None
    if interaction.guild_id is not None:
        problem, inline = delivery_problems(
            interaction.app_permissions, channel_id, in_thread=in_thread
        )
    if in_thread:
        parent = getattr(channel, "parent_id", None)
        return Place(
            Platform.DISCORD,
            scope,
            str(parent or channel_id),
            thread_id=channel_id,
            delivery_problem=problem,
            attach_problem=inline,
        )
    return Place(
        Platform.DISCORD, scope, channel_id, delivery_problem=problem, attach_problem=inline
    )


def attachment_of(
    attachment: discord.Attachment, session: Callable[[], aiohttp.ClientSession]
) -> Attachment:
    """An Attachment whose `read(limit)` downloads at most `limit + 1` bytes of the file."""
    return Attachment(
        attachment.filename,
        attachment.content_type,
        attachment.size,
        url_reader(attachment.url, session),
    )


def url_reader(
    url: str, session: Callable[[], aiohttp.ClientSession]
) -> Callable[[int], Awaitable[bytes]]:
    async def read(limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        try:
            async with session().get(url) as response:
                if response.status != 200:
                    raise InvalidSheet(
                        f"Discord would not hand over that file (HTTP {response.status}); "
                        "upload it again."
                    )
                async for chunk in response.content.iter_chunked(CHUNK):
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > limit:  # enough to show it is too large: stop downloading
                        break
        except aiohttp.ClientError:
            raise InvalidSheet("Could not download that file from Discord; try again.") from None
        return b"".join(chunks)[: limit + 1]

    return read


def first_image(message: discord.Message) -> discord.Attachment | None:
    """The first attachment that says it is an image (by type, or by name when untyped)."""
    for attachment in message.attachments:
        kind = (attachment.content_type or "").split(";")[0].strip().lower()
        name = attachment.filename.lower()
        if kind.startswith("image/") or (
            not kind and name.endswith((".png", ".jpg", ".jpeg", ".webp"))
        ):
            return attachment
    return None


def options_of(values: dict[str, object]) -> tuple[dict[str, object], discord.Attachment | None]:
    """Slash option values as plain options (Choice -> its value); the sheet set apart."""
    options: dict[str, object] = {}
    sheet: discord.Attachment | None = None
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, discord.Attachment):
            sheet = value
            continue
        if isinstance(value, discord.app_commands.Choice):
            value = value.value
        options[name] = value
    return options, sheet
