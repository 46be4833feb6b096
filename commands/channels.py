"""Channels: where videos may be made, each channel's preset options, the admin channel.

`admin channel allow|deny|clear <channel>` keeps a list per scope: once any channel is allowed,
generate works only in allowed ones (the refusal names them); a denied channel never works.
`admin channel admin <channel>` sets where approval requests and the team pool's alerts go.
`admin defaults` presets resolution, frames, quality and sound for a channel; generate and
estimate use a preset only when the user did not set that option.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.budget.admission_context import mention
from bot.budget.policy import DEFAULT_OPTIONS, parse_channel
from bot.errors import UserError
from bot.model import Actor, Invocation, Platform, Reply
from bot.ports import ChannelAccess
from bot.request import GenerationRequest
from bot.request_parsing import parse_request
from commands.admin import choice, require_admin
from commands.context import Services

log = logging.getLogger(__name__)
UNSET = {"none", "off", "clear", "unset"}


def _text(invocation: Invocation, name: str) -> str | None:
    value = invocation.options.get(name)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def with_defaults(options: dict[str, object], presets: Mapping[str, str]) -> dict[str, object]:
    """The user's options, with the channel's presets for those they did not set."""
    merged = dict(options)
    for name, value in presets.items():
        if name in merged or (name == "num_frames" and "duration" in merged):
            continue  # what the user set wins; a duration is their frame count
        merged[name] = value
    return merged


async def announce(
    services: Services, platform: Platform, scope: str, channel_id: str, reply: Reply
) -> str | None:
    """Post outside a job through the platform's poster; None (logged) when it cannot."""
    poster = services.posters.get(platform)
    if poster is None:
        log.warning("no %s poster to post in channel %s", platform.value, channel_id)
        return None
    try:
        return await poster.announce(scope=scope, channel_id=channel_id, reply=reply)
    except Exception:
        log.exception("could not post in %s channel %s", platform.value, channel_id)
        return None


async def tell_admins(
    services: Services, actor: Actor, channel: str | None, text: str
) -> str | None:
    """Post a sentence in the scope's admin channel (`channel`, from the policy the command
    read), if one is set."""
    if channel is None:
        return None
    reply = Reply(text=text, ephemeral=False)
    return await announce(services, actor.platform, actor.scope, channel, reply)


async def admin_channel(invocation: Invocation, services: Services) -> Reply:
    """`admin channel show|allow|deny|clear|admin [channel]`."""
    actor = invocation.actor
    require_admin(actor)
    admin, scope, now = services.budgets.admin, actor.scope_key, services.clock()
    action = choice(invocation, "action", ("show", "allow", "deny", "clear", "admin"), "show")
    raw = _text(invocation, "channel")
    reason = _text(invocation, "reason") or ""
    if action == "admin":
        value: str | None = invocation.place.channel_id  # by default: where this was typed
        if raw is not None:
            value = None if raw.lower() in UNSET else parse_channel(raw)
        await admin.set_admin_channel(scope, value, actor=actor.user_id, reason=reason, at=now)
        if value is None:
            return Reply(text="No admin channel now: nobody can be asked for approvals.")
        return Reply(
            text=f"Approval requests and the {actor.platform.scope_word}'s pool alerts now "
            f"go to {mention(value)}."
        )
    if action in ("allow", "deny", "clear"):
        channel = parse_channel(raw) if raw else invocation.place.channel_id
        access = None if action == "clear" else ChannelAccess(action)
        await admin.set_channel_access(
            scope, channel, access, actor=actor.user_id, reason=reason, at=now
        )
    return await _show_channels(services, scope)


async def _show_channels(services: Services, scope: str) -> Reply:
    listed = await services.budgets.admin.channel_list(scope)
    admin = listed.admin_channel
    fields = (
        ("Allowed", ", ".join(map(mention, listed.allowed)) or "every channel (no allow-list)"),
        ("Denied", ", ".join(map(mention, listed.denied)) or "none"),
        ("Admin channel", mention(admin) if admin else "not set"),
    )
    return Reply(text="Channels here:", fields=fields)


async def admin_defaults(invocation: Invocation, services: Services) -> Reply:
    """`admin defaults [channel] [resolution] [num_frames] [video_quality] [generate_audio]
    [clear]`: preset options for a channel (shown when nothing is given)."""
    actor = invocation.actor
    require_admin(actor)
    admin, scope, now = services.budgets.admin, actor.scope_key, services.clock()
    raw = _text(invocation, "channel")
    channel = parse_channel(raw) if raw else invocation.place.channel_id
    reason = _text(invocation, "reason") or ""
    changes: dict[str, str | None] = {}
    clear = (_text(invocation, "clear") or "").lower()
    if clear:
        if clear not in ("all", *DEFAULT_OPTIONS):
            raise UserError(
                f"`clear` must be one of all, {', '.join(DEFAULT_OPTIONS)} (got {clear!r})."
            )
        changes = dict.fromkeys(DEFAULT_OPTIONS if clear == "all" else (clear,))
    given = {
        name: invocation.options[name]
        for name in DEFAULT_OPTIONS
        if invocation.options.get(name) not in (None, "")
    }
    if given:
        # The request model checks each value, with the messages users get for generate.
        checked = parse_request({"prompt": "defaults", **given})
        for name, value in given.items():
            changes[name] = _stored(name, value, checked)
    await admin.set_presets(scope, channel, changes, actor=actor.user_id, reason=reason, at=now)
    presets = await admin.presets(scope, channel)
    shown = " · ".join(f"{k} = {presets[k]}" for k in DEFAULT_OPTIONS if k in presets)
    head = "Updated. " if changes else ""
    return Reply(text=f"{head}Defaults in {mention(channel)}: {shown or 'none'}.")


def _stored(name: str, value: object, checked: GenerationRequest) -> str:
    """The preset as text, normalised where the request model has a canonical form."""
    if name == "generate_audio":
        return "true" if checked.generate_audio else "false"
    if name == "video_quality":
        return checked.video_quality.value
    if name == "num_frames":
        return str(checked.num_frames)
    return str(value).strip()  # a resolution as typed: "1280x720", "auto", "landscape_16_9"
