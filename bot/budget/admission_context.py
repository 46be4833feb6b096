"""What one request is decided by, read together: the scope's policy, whether its channel may
make videos, and the options preset for that channel.

A command reads it once (`Budgets.admission_context`, one statement of the store) and passes
the record on, so its thresholds, its hold, its alerts and the channel check all go by one
read of what admins set. A command that does not check the channel or use presets does not
ask for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.budget.scope_policy import ScopePolicy
from bot.errors import NotAllowed
from bot.ports import ChannelAccess


def mention(channel_id: str) -> str:
    """A channel as every platform shows it in a message."""
    return f"<#{channel_id}>"


@dataclass(frozen=True, slots=True)
class ChannelVerdict:
    """May videos be made in the channel? `refusal` is the sentence when they may not."""

    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def channel_verdict(listed: Mapping[str, ChannelAccess], channel_id: str) -> ChannelVerdict:
    """Once any channel is allowed, only allowed ones may; a denied one never may."""
    allowed = sorted(c for c, access in listed.items() if access is ChannelAccess.ALLOW)
    access = listed.get(channel_id)
    if access is ChannelAccess.ALLOW or (access is None and not allowed):
        return ChannelVerdict()
    if allowed:
        where = ", ".join(mention(c) for c in allowed)
        return ChannelVerdict(f"Videos are not made in this channel. Allowed channels: {where}.")
    return ChannelVerdict("An admin turned off making videos in this channel.")


@dataclass(frozen=True, slots=True)
class AdmissionContext:
    """The scope's policy, the channel's verdict and its presets, as read together."""

    policy: ScopePolicy
    channel: ChannelVerdict | None  # None: the channel list was not asked for
    defaults: Mapping[str, str]  # the channel's presets (`DEFAULT_OPTIONS` names, as typed)

    def check_channel(self) -> None:
        """Refuse making a video in a channel the scope's list excludes (naming allowed ones)."""
        if self.channel is None:
            raise RuntimeError("the channel list was not read for this admission")
        if self.channel.refusal is not None:
            raise NotAllowed(self.channel.refusal)
