"""`ltxbot doctor`'s chat checks: Discord's token and the privileged intents its application
allows, Slack's token and the scopes it was granted against the manifest, and Slack's mode.

Discord: `GET /users/@me` (the token) and `GET /applications/@me` (its `flags` say which
privileged intents are turned on) at LTXBOT_DISCORD_API_URL. Slack: `auth.test` at
LTXBOT_SLACK_API_URL, whose `x-oauth-scopes` header lists the scopes the install granted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from importlib import resources

import yaml

from adapters.console.doctor_base import Check, authenticated
from bot.settings import Settings

# Application flags (discord.com/developers/docs/resources/application#application-object-
# application-flags): either bit of a pair lets the bot ask for that privileged intent.
PRIVILEGED = {
    "presences": ("Presence Intent", 1 << 12 | 1 << 13),
    "members": ("Server Members Intent", 1 << 14 | 1 << 15),
    "message_content": ("Message Content Intent", 1 << 18 | 1 << 19),
}
DISCORD_APPS = "https://discord.com/developers/applications"


async def discord_checks(settings: Settings) -> list[Check]:
    if settings.discord_token is None:
        return [Check("discord", None, "LTXBOT_DISCORD_TOKEN not set (Discord is not served)")]
    base, token = settings.discord_api_url.rstrip("/"), settings.discord_token.get_secret_value()
    headers = {"Authorization": f"Bot {token}"}
    check, answer = await authenticated(
        "discord", "GET", f"{base}/users/@me", headers, "LTXBOT_DISCORD_TOKEN",
        f"reset the token under Bot at {DISCORD_APPS}",
    )  # fmt: skip
    if not check.ok or answer is None:
        return [check]
    bot = answer.json().get("username", "?")
    app, answer = await authenticated(
        "discord intents", "GET", f"{base}/applications/@me", headers, "LTXBOT_DISCORD_TOKEN",
        f"reset the token under Bot at {DISCORD_APPS}",
    )  # fmt: skip
    named = Check("discord", True, f"LTXBOT_DISCORD_TOKEN accepted: the bot is {bot}")
    if not app.ok or answer is None:
        return [named, app]
    checks = [named, intents_check(_intents_used(), int(answer.json().get("flags") or 0))]
    if settings.discord_shards is not None or not settings.discord_gateway:
        checks.append(await _shards_check(settings, base, headers))
    return checks


async def _shards_check(settings: Settings, base: str, headers: dict[str, str]) -> Check:
    """This replica's share of the gateway against the shards Discord recommends (`GET
    /gateway/bot`): a count below it is refused by Discord (close 4011, sharding required)."""
    if not settings.discord_gateway:
        return Check("discord shards", True, "gateway off: this replica posts through REST only")
    assert settings.discord_shards is not None
    ids, count = settings.discord_shards
    check, answer = await authenticated(
        "discord shards", "GET", f"{base}/gateway/bot", headers, "LTXBOT_DISCORD_TOKEN",
        f"reset the token under Bot at {DISCORD_APPS}",
    )  # fmt: skip
    if not check.ok or answer is None:
        return check
    recommended = int(answer.json().get("shards") or 1)
    mine = f"shards {', '.join(map(str, ids))} of {count}"
    if count < recommended:
        fix = f"set LTXBOT_DISCORD_SHARD_COUNT to {recommended} or more on every replica"
        return Check("discord shards", False, f"{mine}; Discord asks for {recommended}", fix)
    return Check("discord shards", True, f"{mine} (Discord recommends {recommended})")


def intents_check(used: Iterable[str], flags: int) -> Check:
    """The privileged intents the bot asks for against those its application allows."""
    needed = [PRIVILEGED[name][0] for name in used if name in PRIVILEGED]
    missing = [PRIVILEGED[n][0] for n in used if n in PRIVILEGED and not flags & PRIVILEGED[n][1]]
    if missing:
        fix = f"turn them on under Bot -> Privileged Gateway Intents at {DISCORD_APPS}"
        return Check("discord intents", False, f"not allowed: {', '.join(missing)}", fix)
    if not needed:
        return Check("discord intents", True, "none privileged needed (guilds only)")
    return Check("discord intents", True, f"allowed: {', '.join(needed)}")


def _intents_used() -> list[str]:
    from adapters.discord.client import INTENTS  # discord.py is imported only when it is used

    return [name for name in PRIVILEGED if getattr(INTENTS, name)]


async def slack_checks(settings: Settings) -> list[Check]:
    if settings.slack_bot_token is None and settings.slack_client_id is None:
        return [Check("slack", None, "LTXBOT_SLACK_BOT_TOKEN not set (Slack is not served)")]
    return [await _slack_token(settings), _slack_mode(settings)]


async def _slack_token(settings: Settings) -> Check:
    if settings.slack_bot_token is None:
        return Check("slack", None, "OAuth installs (LTXBOT_SLACK_CLIENT_ID): each workspace's "
                     "token is granted the manifest's scopes as it installs")  # fmt: skip
    token = settings.slack_bot_token.get_secret_value()
    url = settings.slack_api_url.rstrip("/") + "/auth.test"
    fix = "reinstall the app (OAuth & Permissions) and copy its Bot User OAuth Token"
    check, answer = await authenticated(
        "slack", "POST", url, {"Authorization": f"Bearer {token}"}, "LTXBOT_SLACK_BOT_TOKEN", fix
    )
    if not check.ok or answer is None:
        return check
    body = answer.json()
    if not body.get("ok"):  # Slack says no in the body, with HTTP 200
        why = str(body.get("error", "refused"))
        return Check("slack", False, f"LTXBOT_SLACK_BOT_TOKEN refused ({why})", fix)
    granted = {s.strip() for s in answer.headers.get("x-oauth-scopes", "").split(",")}
    missing = sorted(set(await asyncio.to_thread(manifest_scopes)) - granted)
    team = body.get("team", "?")
    fix = ("add them from adapters/slack/manifest.yaml (OAuth & Permissions -> Bot Token "
           "Scopes) and reinstall the app")  # fmt: skip
    needed = [scope for scope in missing if not scope.endswith(":history")]
    if needed:
        return Check("slack", False, f"token of {team} lacks {', '.join(needed)}", fix)
    if missing:  # only the read-back of a link message after a crash needs them
        return Check("slack", True, f"token of {team} lacks {', '.join(missing)}: after a crash "
                     "a video posted as a link (uploads refused) may be posted twice", fix,
                     warning=True)  # fmt: skip
    return Check("slack", True, f"LTXBOT_SLACK_BOT_TOKEN accepted by {team}, every scope of "
                 "the manifest granted")  # fmt: skip


def manifest_scopes() -> list[str]:
    """The bot scopes adapters/slack/manifest.yaml asks for (the file people paste)."""
    text = resources.files("adapters.slack").joinpath("manifest.yaml").read_text("utf-8")
    return list(yaml.safe_load(text)["oauth_config"]["scopes"]["bot"])


def _slack_mode(settings: Settings) -> Check:
    if settings.slack_app_token is not None:
        return Check("slack mode", True, "Socket Mode (LTXBOT_SLACK_APP_TOKEN set)")
    if settings.slack_signing_secret is None:
        return Check("slack mode", False, "HTTP mode (no LTXBOT_SLACK_APP_TOKEN) without a "
                     "signing secret", "set LTXBOT_SLACK_SIGNING_SECRET (Basic Information -> "
                     "Signing Secret), or LTXBOT_SLACK_APP_TOKEN for Socket Mode")  # fmt: skip
    return Check("slack mode", True, "HTTP mode: signing secret set")
