"""Slack users as `Actor`s and conversations as `Place`s.

Workspace admins and owners are the bot's admins. Payloads do not say who is one, so
users.info is asked (needs `users:read`) and the answer kept for a few minutes; when Slack
cannot say, the user is treated as a plain member (the safe side). The user groups a person is
in are their roles (for role caps): `usergroups.list` (needs `usergroups:read`; free workspaces
have no groups), asked once per workspace every few minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.model import Actor, Place, Platform

log = logging.getLogger(__name__)
ADMIN_CACHE_SECONDS = 300
GROUPS_CACHE_SECONDS = 300


def slack_place(team_id: str, channel_id: str, thread_ts: str | None = None) -> Place:
    return Place(Platform.SLACK, team_id, channel_id, thread_ts)


class People:
    """Builds Actors, remembering who is an admin for `ADMIN_CACHE_SECONDS`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._admins: dict[tuple[str, str], tuple[bool, str, float]] = {}
        self._groups: dict[str, tuple[dict[str, tuple[str, ...]], float]] = {}

    async def actor(
        self, client: AsyncWebClient, team_id: str, user_id: str, name: str = ""
    ) -> Actor:
        key = (team_id, user_id)
        cached = self._admins.get(key)
        if cached is None or cached[2] <= self._clock():
            is_admin, looked_up = await self._look_up(client, user_id)
            cached = (is_admin, looked_up, self._clock() + ADMIN_CACHE_SECONDS)
            self._admins[key] = cached
        groups = await self._groups_of(client, team_id)
        return Actor(
            Platform.SLACK,
            team_id,
            user_id,
            name or cached[1] or user_id,
            roles=groups.get(user_id, ()),
            is_admin=cached[0],
        )

    async def _groups_of(self, client: AsyncWebClient, team_id: str) -> dict[str, tuple[str, ...]]:
        """user id -> the ids of the user groups they are in, for the workspace."""
        cached = self._groups.get(team_id)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        members: dict[str, list[str]] = {}
        try:
            response = await client.usergroups_list(include_users=True)
        except SlackApiError as error:  # no scope, or a plan without groups: no role caps
            log.info("usergroups.list: %s; role caps do not apply", error.response.get("error"))
        else:
            for group in response.get("usergroups") or ():
                for user in group.get("users") or ():
                    members.setdefault(user, []).append(str(group.get("id")))
        result = {user: tuple(ids) for user, ids in members.items()}
        self._groups[team_id] = (result, self._clock() + GROUPS_CACHE_SECONDS)
        return result

    async def _look_up(self, client: AsyncWebClient, user_id: str) -> tuple[bool, str]:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("users.info for %s failed: %s", user_id, error.response.get("error"))
            return False, ""
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("real_name") or user.get("name") or ""
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        return admin, name
