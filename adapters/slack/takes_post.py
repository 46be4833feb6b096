"""A request's takes in one Slack message (bot.jobs.takes_delivery), exactly once.

The upload and its exactly-once steps are `adapters.slack.result_post`'s, the one path a
single video takes too: here the takes are a list of several, shared in take 1's thread (one
message, a file per take, numbered with its seed), else in the DM. Then take 1's status message
carries every take's buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import mrkdwn, plain, status_blocks
from adapters.slack.result_post import ResultPost, slack_error
from bot.events import Succeeded
from bot.jobs.record import Job
from bot.ports import Delivery, DeliveryAttempt
from commands.takes_reply import takes_reply

log = logging.getLogger(__name__)
Takes = Sequence[tuple[Job, Path, Succeeded]]


async def deliver_takes(
    results: ResultPost,
    token: str,
    leader: Job,
    takes: Takes,
    status_ts: str | None,
    attempt: DeliveryAttempt,
    ended: Sequence[Job] = (),
) -> Delivery:
    """In take 1's thread, else the DM; then take 1's status message carries every take's
    buttons and every take's end (a status that lags is only logged)."""
    reply = takes_reply([(job, event) for job, _, event in takes], ended)
    thread = leader.origin.thread_id or status_ts
    videos = [(job, video) for job, video, _ in takes]
    delivery, _ = await results.post(token, leader, videos, reply, thread, attempt)
    if status_ts:
        channel = leader.origin.channel_id
        text, blocks = plain(mrkdwn(reply.text), 3000), status_blocks(reply.text, reply.buttons)
        try:
            await results.call(
                "chat_update", token, channel, channel=channel, ts=status_ts, text=text,
                blocks=blocks,
            )  # fmt: skip
        except SlackApiError as problem:  # delivered: the status may lag
            log.info("job %s: status not updated (%s)", leader.id, slack_error(problem))
    return delivery
