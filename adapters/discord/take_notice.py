"""A take 2..N that ends (failed, cancelled) is told in take 1's thread, where the takes
message is, not in a status message and thread of its own in the channel.

The core names take 1's status message on the take (`Origin.takes_status_id`); a thread
started from a message shares its id. Where take 1 got no thread (the bot may not open one
there), the message goes in the channel, as all of that request's messages do; where the
channel refuses the bot, to the requester privately.
"""

from __future__ import annotations

import logging

import discord

from adapters.discord.private import Requesters
from adapters.discord.render import clip
from bot.events import Failed, JobEvent
from bot.jobs.record import Job
from commands.render import failure_notice, status_text

log = logging.getLogger(__name__)


def take_notice(job: Job, event: JobEvent) -> str:
    """ "❌ <@u> Take 2/3 · seed 11 could not be made: **prompt**", the reason, the refund;
    a cancel's status line otherwise."""
    if not isinstance(event, Failed):
        return clip(status_text(job, event), 2000)
    return clip(failure_notice(job, event), 2000)


async def tell_in_takes_thread(
    client: discord.Client, requesters: Requesters, job: Job, event: JobEvent
) -> None:
    """Post the take's ending in take 1's thread (else the channel, else privately)."""
    assert job.origin.takes_status_id is not None
    content = take_notice(job, event)
    places = [job.origin.thread_id or job.origin.takes_status_id, job.origin.channel_id]
    for where in dict.fromkeys(places):  # take 1's thread, then the channel
        try:
            await client.get_partial_messageable(int(where)).send(content=content)
            return
        except (discord.Forbidden, discord.NotFound) as refused:
            log.info("job %s: its ending not posted in %s (%s)", job.id, where, refused.code)
    await requesters.tell(job.id, job.origin.user_id, content)
