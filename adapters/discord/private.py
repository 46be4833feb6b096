"""The private ways to reach a job's requester, for when the job's channel refuses the bot.

Two ways, in this order: the follow-up webhook of the requester's own interaction while its
token lives (Discord keeps it 15 minutes; its messages need no channel permission, and can be
ephemeral), then a direct message from the bot (`POST /users/@me/channels`), which works as
long as the requester takes DMs from members of the server. After a restart only the DM is left.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import discord

log = logging.getLogger(__name__)
TOKEN_LIFE_SECONDS = 14 * 60  # Discord's 15 minutes, with a minute to spare
REMEMBERED = 2048


@dataclass(frozen=True, slots=True)
class _Followup:
    user_id: str
    webhook: discord.Webhook
    expires: float


class Requesters:
    def __init__(
        self, client: discord.Client, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client, self.clock = client, clock
        self._followups: OrderedDict[str, _Followup] = OrderedDict()  # job id -> followup
        self._dm_channels: dict[str, int] = {}

    def remember(self, job_id: str, interaction: discord.Interaction) -> None:
        """The requester's latest interaction about a job (a command, a Confirm press)."""
        expires = self.clock() + TOKEN_LIFE_SECONDS
        self._followups[job_id] = _Followup(str(interaction.user.id), interaction.followup, expires)
        self._followups.move_to_end(job_id)
        while len(self._followups) > REMEMBERED:
            self._followups.popitem(last=False)

    def forget(self, job_id: str) -> None:
        self._followups.pop(job_id, None)

    async def direct_channel(self, user_id: str) -> discord.PartialMessageable:
        """The bot's DM channel with the user (raises discord.HTTPException when refused)."""
        channel_id = self._dm_channels.get(user_id)
        if channel_id is None:
            opened = await self.client.http.start_private_message(int(user_id))
            channel_id = self._dm_channels[user_id] = int(opened["id"])
        return self.client.get_partial_messageable(channel_id)

    async def tell(self, job_id: str, user_id: str, content: str) -> bool:
        """Say `content` to the requester only: ephemerally while their interaction lives,
        else in a DM. False when neither way took it."""
        followup = self._followups.get(job_id)
        if followup is not None and followup.user_id == user_id and self.clock() < followup.expires:
            try:
                await followup.webhook.send(content, ephemeral=True)
                return True
            except discord.HTTPException as refused:
                log.info("job %s: the follow-up was refused (%s)", job_id, refused.code)
        try:
            await (await self.direct_channel(user_id)).send(content)
            return True
        except discord.HTTPException as refused:
            log.warning("job %s: could not tell the requester privately (%s)", job_id, refused.code)
            return False
