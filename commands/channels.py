"""Channels: where videos may be made, each channel's preset options, the admin channel.

`admin channel allow|deny|clear <channel>` keeps a list per scope: once any channel is allowed,
generate works only in allowed ones (the refusal names them); a denied channel never works.
`admin channel admin <channel>` sets where approval requests and the team pool's alerts go.
`admin defaults` presets resolution, frames, quality and sound for a channel; generate and
estimate use a preset only when the user did not set that option.
"""

from __future__ import annotations

import logging

from bot.budget.policy import DEFAULT_OPTIONS, parse_channel
from bot.errors import NotAllowed, UserError
from bot.model import Actor, Invocation, Place, Platform, Reply
from bot.ports import ChannelAccess, Rule
from bot.request import GenerationRequest, parse_request
from commands.admin import policy_store, require_admin
from commands.context import Services

log = logging.getLogger(__name__)
UNSET = {"none", "off", "clear", "unset"}


def mention(channel_id: str) -> str:
    return f"<#{channel_id}>"


def _text(invocation: Invocation, name: str) -> str | None:
    value = invocation.options.get(name)
    return None if value is None or str(value).strip() == "" else str(value).strip()


async def check_channel(actor: Actor, place: Place, services: Services) -> None:
    """Refuse making a video in a channel the scope's list excludes (with the allowed ones)."""
    store = services.budgets.store
    if store is None:
        return
    listed = await store.channels(scope=actor.scope_key)
    allowed = sorted(c for c, access in listed.items() if access is ChannelAccess.ALLOW)
    access = listed.get(place.channel_id)
    if access is ChannelAccess.ALLOW or (access is None and not allowed):
        return
    where = ", ".join(mention(c) for c in allowed)
    if allowed:
        raise NotAllowed(f"Videos are not made in this channel. Allowed channels: {where}.")
    raise NotAllowed("An admin turned off making videos in this channel.")


async def with_defaults(
    options: dict[str, object], actor: Actor, place: Place, services: Services
) -> dict[str, object]:
    """The user's options, with the channel's presets for those they did not set."""
    store = services.budgets.store
    if store is None:
        return options
    presets = await store.channel_defaults(scope=actor.scope_key, channel_id=place.channel_id)
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


async def tell_admins(services: Services, actor: Actor, text: str) -> str | None:
    """Post a sentence in the scope's admin channel, if one is set."""
    channel = (await services.budgets.scope_policy(actor.scope_key)).admin_channel
    if channel is None:
        return None
    reply = Reply(text=text, ephemeral=False)
    return await announce(services, actor.platform, actor.scope, channel, reply)


async def admin_channel(invocation: Invocation, services: Services) -> Reply:
    """`admin channel show|allow|deny|clear|admin [channel]`."""
    actor = invocation.actor
    require_admin(actor)
    store, scope, now = policy_store(services), actor.scope_key, services.clock()
    action = (_text(invocation, "action") or "show").lower()
    raw = _text(invocation, "channel")
    reason = _text(invocation, "reason") or ""
    if action == "admin":
        value: str | None = invocation.place.channel_id  # by default: where this was typed
        if raw is not None:
            value = None if raw.lower() in UNSET else parse_channel(raw)
        await store.set_rule(
            scope=scope,
            rule=Rule.ADMIN_CHANNEL,
            value=value,
            actor=actor.user_id,
            reason=reason,
            at=now,
            action="channel admin",
        )
        if value is None:
            return Reply(text="No admin channel now: nobody can be asked for approvals.")
        return Reply(text=f"Approval requests and team pool alerts now go to {mention(value)}.")
    if action in ("allow", "deny", "clear"):
        channel = parse_channel(raw) if raw else invocation.place.channel_id
        access = None if action == "clear" else ChannelAccess(action)
        await store.set_channel(
            scope=scope,
            channel_id=channel,
            access=access,
            actor=actor.user_id,
            reason=reason,
            at=now,
        )
    elif action != "show":
        raise UserError("`action` is show, allow, deny, clear or admin.")
    return await _show_channels(services, scope)


async def _show_channels(services: Services, scope: str) -> Reply:
    store = policy_store(services)
    listed = await store.channels(scope=scope)
    admin = (await services.budgets.scope_policy(scope)).admin_channel
    allowed = [mention(c) for c, a in sorted(listed.items()) if a is ChannelAccess.ALLOW]
    denied = [mention(c) for c, a in sorted(listed.items()) if a is ChannelAccess.DENY]
    fields = (
        ("Allowed", ", ".join(allowed) or "every channel (no allow-list)"),
        ("Denied", ", ".join(denied) or "none"),
        ("Admin channel", mention(admin) if admin else "not set"),
    )
    return Reply(text="Channels here:", fields=fields)


async def admin_defaults(invocation: Invocation, services: Services) -> Reply:
    """`admin defaults [channel] [resolution] [num_frames] [video_quality] [generate_audio]
    [clear]`: preset options for a channel (shown when nothing is given)."""
    actor = invocation.actor
    require_admin(actor)
    store, scope, now = policy_store(services), actor.scope_key, services.clock()
    raw = _text(invocation, "channel")
    channel = parse_channel(raw) if raw else invocation.place.channel_id
    reason = _text(invocation, "reason") or ""
    changes: dict[str, str | None] = {}
    clear = (_text(invocation, "clear") or "").lower()
    if clear:
        if clear not in ("all", *DEFAULT_OPTIONS):
            raise UserError(f"`clear` is all or one of {', '.join(DEFAULT_OPTIONS)}.")
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
    for name, value in changes.items():
        await store.set_channel_default(
            scope=scope,
            channel_id=channel,
            option=name,
            value=value,
            actor=actor.user_id,
            reason=reason,
            at=now,
        )
    presets = await store.channel_defaults(scope=scope, channel_id=channel)
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
