"""slack_sdk's installation and OAuth-state stores on top of the neutral `KeyValueStore`.

Laid out like slack_sdk's FileInstallationStore (latest bot, latest installer, latest per
user), so that bolt's authorize finds a workspace's bot token by team id, and the Poster can
find it again after a restart from nothing but the job's Origin (its scope is the team id).
"""

from __future__ import annotations

import json
import logging
import secrets

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from adapters.slack.keyvalue import KeyValueStore

log = logging.getLogger(__name__)
PREFIX = "slack:install:"
STATE_PREFIX = "slack:oauth-state:"


def _team_key(enterprise_id: str | None, team_id: str | None, is_org: bool | None) -> str:
    team = "-" if is_org else (team_id or "-")
    return f"{PREFIX}{enterprise_id or '-'}:{team}:"


def _dump(record: Installation | Bot) -> str:
    return json.dumps({k: v for k, v in vars(record).items() if not k.startswith("_")})


class KeyValueInstallationStore(AsyncInstallationStore):
    """Installations per workspace (and per Enterprise Grid org), newest wins."""

    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        base = _team_key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        await self.async_save_bot(installation.to_bot())
        entity = _dump(installation)
        await self.store.save(key=base + "installer", value=entity)
        await self.store.save(key=f"{base}installer:{installation.user_id}", value=entity)

    async def async_save_bot(self, bot: Bot) -> None:
        if bot.bot_token is None:
            return
        base = _team_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self.store.save(key=base + "bot", value=_dump(bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        raw = await self.store.load(
            key=_team_key(enterprise_id, team_id, is_enterprise_install) + "bot"
        )
        return Bot(**json.loads(raw)) if raw else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        base = _team_key(enterprise_id, team_id, is_enterprise_install)
        raw = await self.store.load(key=base + (f"installer:{user_id}" if user_id else "installer"))
        if not raw:
            return None
        installation = Installation(**json.loads(raw))
        # A user's row may be older than the workspace's newest bot token: prefer the newest.
        bot = await self.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is not None and bot.bot_token != installation.bot_token:
            installation.bot_id, installation.bot_user_id = bot.bot_id, bot.bot_user_id
            installation.bot_token, installation.bot_scopes = bot.bot_token, bot.bot_scopes
            installation.bot_refresh_token = bot.bot_refresh_token
            installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.store.discard(key=_team_key(enterprise_id, team_id, False) + "bot")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        base = _team_key(enterprise_id, team_id, False)
        if user_id:
            await self.store.discard(key=f"{base}installer:{user_id}")
        else:
            await self.store.discard_prefix(prefix=base + "installer")

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.store.discard_prefix(prefix=_team_key(enterprise_id, team_id, False))


class KeyValueOAuthStateStore(AsyncOAuthStateStore):
    """One-time OAuth `state` values, shared by every replica through the same store."""

    def __init__(self, store: KeyValueStore, *, expiration_seconds: int = 600) -> None:
        self.store = store
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(24)
        await self.store.save(
            key=STATE_PREFIX + state, value="1", ttl_seconds=self.expiration_seconds
        )
        return state

    async def async_consume(self, state: str) -> bool:
        return await self.store.discard(key=STATE_PREFIX + state)
