"""Discord: `/ltx` slash commands, the "Animate with LTX" menu, status and videos in threads."""

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.poster import DiscordPoster

__all__ = ["DiscordAdapter", "DiscordPoster"]
