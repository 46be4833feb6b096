"""Where the Slack poster finds a workspace's bot token: one configured, or each install's."""

from __future__ import annotations

from adapters.slack.installations import KeyValueInstallationStore
from bot.errors import ConfigurationError


class SingleToken:
    """One workspace: the configured bot token."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def bot_token(self, team_id: str) -> str:
        return self._token


class InstalledTokens:
    """Many workspaces: the bot token saved when each one installed the app."""

    def __init__(self, store: KeyValueInstallationStore) -> None:
        self.store = store

    async def bot_token(self, team_id: str) -> str:
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise ConfigurationError(f"the Slack app is not installed in workspace {team_id}")
        return bot.bot_token
