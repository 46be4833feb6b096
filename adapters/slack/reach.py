"""Whether the bot can post a job's result in a Slack conversation, asked before any hold.

One `conversations.info` per conversation, kept for `REACH_CACHE_SECONDS`. Slack's answers to a
bot token: a public channel is always visible (`is_member` may be false: the poster joins it on
`not_in_channel`); a private channel, DM or group DM the bot is not in is `channel_not_found`
(or `is_member: false`), and those cannot be joined, so the job is refused before it is held.
Any other failure (no `groups:read` on an old install, rate limits) is not a refusal: the poster
finds out as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)
REACH_CACHE_SECONDS = 60
PRIVATE = (
    "I can't post in this private channel: invite me with /invite @ltxbot, "
    "then run the command again."
)
CONVERSATION = (
    "I can't post in this conversation: add me to it (or message me directly), "
    "then run the command again."
)


class Reach:
    """The refusal sentence for a conversation the bot cannot post in; None when it can."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._known: dict[str, tuple[str | None, float]] = {}

    async def problem(self, client: AsyncWebClient, channel_id: str) -> str | None:
        if not channel_id:
            return None
        known = self._known.get(channel_id)
        if known is not None and self._clock() - known[1] < REACH_CACHE_SECONDS:
            return known[0]
        try:
            info = (await client.conversations_info(channel=channel_id)).get("channel") or {}
        except SlackApiError as error:
            if error.response.get("error") != "channel_not_found":
                log.info("could not check %s: %s", channel_id, error.response.get("error"))
                return None
            problem: str | None = _hidden(channel_id)
        else:
            problem = _problem(info)
        self._known[channel_id] = (problem, self._clock())
        return problem


def _problem(info: dict[str, object]) -> str | None:
    if info.get("is_im") or not info.get("is_private") or info.get("is_member", True):
        return None  # the app's own DM, a public channel (joined on need), or a member
    return CONVERSATION if info.get("is_mpim") else PRIVATE


def _hidden(channel_id: str) -> str:
    # Slack hides what the bot is not in; D... and G... ids are DMs and group DMs.
    return CONVERSATION if channel_id[:1] in ("D", "G") else PRIVATE
