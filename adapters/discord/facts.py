"""What interactions tell us about a place, kept for the jobs posted there later.

Every interaction carries the bot's resolved permissions in its channel (`app_permissions`) and
the guild's upload limit (`attachment_size_limit`, boosts included). The poster runs long after
the interaction, from the job's Origin alone, so it reads these when known and otherwise finds
out from Discord's answers (50013, 40005).
"""

from __future__ import annotations

import discord

DEFAULT_UPLOAD_LIMIT = discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES  # 10 MiB, unboosted


class PlaceFacts:
    def __init__(self) -> None:
        self._permissions: dict[str, int] = {}
        self._upload_limits: dict[str, int] = {}

    def learn(self, interaction: discord.Interaction) -> None:
        if interaction.channel_id is not None:
            self._permissions[str(interaction.channel_id)] = interaction.app_permissions.value
        if interaction.guild_id is not None and interaction.filesize_limit:
            self._upload_limits[str(interaction.guild_id)] = interaction.filesize_limit

    def permissions(self, channel_id: str) -> discord.Permissions | None:
        value = self._permissions.get(channel_id)
        return None if value is None else discord.Permissions(value)

    def upload_limit(self, guild_id: str) -> int | None:
        return self._upload_limits.get(guild_id)

    def remember_upload_limit(self, guild_id: str, limit: int) -> None:
        self._upload_limits[guild_id] = limit


def missing_to_post(permissions: discord.Permissions, *, in_thread: bool) -> list[str]:
    """What the poster cannot do without, in Discord's words: seeing the place and sending
    there. The rest it works around: no Create Public Threads keeps the job in the channel, no
    Attach Files (or a video above the upload limit) posts fal's link (a sync_mode video has
    none: see `delivery_problems`), no Embed Links drops the price embed but not the video."""
    missing = []
    if not permissions.view_channel:
        missing.append("View Channel")
    if in_thread and not permissions.send_messages_in_threads:
        missing.append("Send Messages in Threads")
    elif not in_thread and not permissions.send_messages:
        missing.append("Send Messages")
    return missing


def delivery_problems(
    permissions: discord.Permissions, where: str, *, in_thread: bool
) -> tuple[str | None, str | None]:
    """The refusals for a place the bot cannot post in (`where`: the channel or thread id):
    for any video, and for one without a link (sync_mode), which must be attached."""
    missing = missing_to_post(permissions, in_thread=in_thread)
    attach = [] if permissions.attach_files else ["Attach Files"]
    inline = refusal(where, missing + attach, " (a sync_mode video has no link to post instead)")
    return refusal(where, missing), inline


def refusal(where: str, missing: list[str], why: str = "") -> str | None:
    if not missing:
        return None
    names = " and ".join(missing)
    plural = ("permissions", "them") if len(missing) > 1 else ("permission", "it")
    return (
        f"I can't post in <#{where}>: I need the {names} {plural[0]} there{why}. "
        f"Ask an admin to grant {plural[1]}, then run the command again."
    )


def missing_for_thread(permissions: discord.Permissions | None) -> list[str]:
    """The permissions a thread from the status message needs that the bot lacks here."""
    if permissions is None:
        return []
    missing = []
    if not permissions.create_public_threads:
        missing.append("Create Public Threads")
    if not permissions.send_messages_in_threads:
        missing.append("Send Messages in Threads")
    return missing
