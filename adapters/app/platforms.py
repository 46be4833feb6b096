"""Which chat platforms `ltxbot run` serves: the adapters whose tokens are set."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.errors import ConfigurationError
from bot.model import Platform
from bot.ports import Poster
from bot.settings import Settings
from commands import Commands

if TYPE_CHECKING:
    from storage import Storage


class ChatAdapter(Protocol):
    """What `serve` needs of a platform's adapter (Discord's, Slack's)."""

    @property
    def platform(self) -> Platform: ...

    @property
    def poster(self) -> Poster: ...

    # Set by `serve` before `start`: called with each acknowledgement's seconds.
    on_ack: Callable[[float], None] | None

    async def start(self) -> None: ...

    async def connected(self) -> bool:
        """Whether it can take requests now (for /readyz)."""
        ...

    async def close(self) -> None: ...


def configured_adapters(
    settings: Settings, commands: Commands, storage: Storage
) -> list[ChatAdapter]:
    """The chat adapters whose tokens are set, imported by name only when needed; Slack keeps
    its installations and dedup claims, Discord its open forms, in `storage.keyvalue` (shared by
    every replica, kept across restarts)."""
    adapters: list[ChatAdapter] = []
    if settings.discord_token is not None:
        from adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(settings, commands, store=storage.keyvalue))
    if _slack_configured(settings):
        from adapters.slack import SlackAdapter

        adapters.append(
            SlackAdapter(settings, commands, store=storage.keyvalue, leases=storage.leases)
        )
    return adapters


def _slack_configured(settings: Settings) -> bool:
    # One workspace has a bot token; an OAuth install into many has a client id instead.
    return settings.slack_bot_token is not None or settings.slack_client_id is not None


def require_a_platform(settings: Settings) -> None:
    if settings.discord_token is None and not _slack_configured(settings):
        raise ConfigurationError(
            "no chat platform is configured: set LTXBOT_DISCORD_TOKEN, or "
            "LTXBOT_SLACK_BOT_TOKEN with LTXBOT_SLACK_APP_TOKEN (Socket Mode) or "
            "LTXBOT_SLACK_SIGNING_SECRET (HTTP mode), or LTXBOT_SLACK_CLIENT_ID and "
            "LTXBOT_SLACK_CLIENT_SECRET with the signing secret (OAuth, many workspaces)"
        )
