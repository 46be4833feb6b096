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
