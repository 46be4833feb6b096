"""A take 2..N that ends (failed, cancelled) is told in take 1's thread, where the takes
message is, not in a status message of its own in the channel (as on Discord).

The core names take 1's status message on the take (`Origin.takes_status_id`); on Slack the
thread is that message's ts. Where the conversation refuses the bot, the requester is told
privately (the response_url while it lives, else the DM).
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import mrkdwn, plain
from adapters.slack.private import Requesters
from adapters.slack.result_post import NOT_HERE, Call, slack_error
from bot.events import Failed, JobEvent
from bot.jobs.record import Job
from commands.render import failure_notice, status_text

log = logging.getLogger(__name__)


def take_notice(job: Job, event: JobEvent) -> str:
    """The mention with the reason and the refund for a failed take; a cancel's status line."""
    said = failure_notice(job, event) if isinstance(event, Failed) else status_text(job, event)
    return plain(mrkdwn(said), 3000)


async def tell_in_takes_thread(
    call: Call, requesters: Requesters, token: str, job: Job, event: JobEvent
) -> None:
    """Post the take's ending in take 1's thread, else tell the requester privately."""
    assert job.origin.takes_status_id is not None
    text = take_notice(job, event)
    channel = job.origin.channel_id
    thread = job.origin.thread_id or job.origin.takes_status_id
    try:
        await call("chat_postMessage", token, channel, channel=channel, thread_ts=thread,
                   text=text)  # fmt: skip
    except SlackApiError as refused:
        if slack_error(refused) not in NOT_HERE:
            raise
        log.info("job %s: its ending not posted in %s (%s)", job.id, channel, slack_error(refused))
        await requesters.tell(token, job.id, job.origin.user_id, text)
