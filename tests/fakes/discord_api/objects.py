"""Discord API objects shaped like the documented ones (users, members, channels, messages).

Only what the real API returns, with every key discord.py reads; built from plain dicts so the
fake imports nothing from the project.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

# Discord permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER_PERMISSIONS = SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS

# Channel types.
GUILD_TEXT = 0
PUBLIC_THREAD = 11
DM = 1

EPHEMERAL = 1 << 6

_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> str:
    """A fresh id, as a string like Discord sends them."""
    return str(next(_snowflakes))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def member(
    user_id: str, name: str, *, roles: tuple[str, ...] = (), permissions: int = MEMBER_PERMISSIONS
) -> dict[str, Any]:
    """A guild member as it appears in an interaction: `permissions` is their total in the
    channel, overwrites included."""
    return {
        "user": user(user_id, name),
        "nick": None,
        "avatar": None,
        "roles": list(roles),
        "joined_at": "2025-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
        "permissions": str(permissions),
    }


def role(role_id: str, name: str, *, permissions: int = 0, position: int = 1) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def text_channel(channel_id: str, guild_id: str, name: str = "general") -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": GUILD_TEXT,
        "guild_id": guild_id,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def dm_channel(channel_id: str, recipient: dict[str, Any]) -> dict[str, Any]:
    return {"id": channel_id, "type": DM, "last_message_id": None, "recipients": [recipient]}


def thread(
    thread_id: str, guild_id: str, parent_id: str, owner_id: str, name: str
) -> dict[str, Any]:
    return {
        "id": thread_id,
        "type": PUBLIC_THREAD,
        "guild_id": guild_id,
        "parent_id": parent_id,
        "owner_id": owner_id,
        "name": name,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": now_iso(),
            "locked": False,
            "create_timestamp": now_iso(),
        },
    }


def guild(
    guild_id: str,
    *,
    premium_tier: int = 0,
    roles: list[dict[str, Any]] | None = None,
    channels: list[dict[str, Any]] | None = None,
    owner_id: str = "1",
) -> dict[str, Any]:
    everyone = role(guild_id, "@everyone", permissions=MEMBER_PERMISSIONS, position=0)
    return {
        "id": guild_id,
        "name": "Test server",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": owner_id,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [everyone, *(roles or [])],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": premium_tier,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "channels": channels or [],
        "threads": [],
        "members": [],
        "member_count": 2,
        "large": False,
        "unavailable": False,
        "joined_at": "2025-01-01T00:00:00+00:00",
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    }


def attachment(
    attachment_id: str, filename: str, size: int, url: str, content_type: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    }
    if content_type is not None:
        body["content_type"] = content_type
    return body


def message(
    message_id: str,
    channel_id: str,
    author: dict[str, Any],
    *,
    content: str = "",
    guild_id: str | None = None,
    embeds: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    flags: int = 0,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "pinned": False,
        "type": 0,
        "flags": flags,
        "components": components or [],
    }
    if guild_id is not None:
        body["guild_id"] = guild_id
    return body
