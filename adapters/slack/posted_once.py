"""A resumed delivery looks for its own earlier post before posting again.

The attempt noted the uploaded file's id before its share was completed: files.info's shares
say whether the share happened (in the thread, or in the DM the fallback took). A link message
(uploads refused: no files:write) has no idempotency key of Slack's, so it carries the
delivery's key in its message metadata (`link_metadata`) and its thread is read back with
`include_all_metadata`: the bot's message with that key is the delivery. Reading needs a
`*:history` scope (channels, groups, im, mpim: the manifest asks them); without one the link
may go twice, and a warning says so.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.record import Job
from bot.model import Payload
from bot.ports import Delivery, DeliveryAttempt, DeliveryRoute

log = logging.getLogger(__name__)
Found = tuple[Delivery, str | None]  # the delivery and the video's permalink
LINK_EVENT = "ltxbot_video_link"  # the metadata event type of a link message


def link_metadata(key: str) -> dict[str, object]:
    """chat.postMessage's `metadata` for a link message of the delivery `key`."""
    return {"event_type": LINK_EVENT, "event_payload": {"delivery": key}}


def _is_link_of(message: Payload, key: str, url: str) -> bool:
    if not message.get("bot_id"):
        return False
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") == LINK_EVENT:
        return (metadata.get("event_payload") or {}).get("delivery") == key
    return bool(url) and url in str(message.get("text") or "")  # posted before the key was


async def earlier_post(
    client: AsyncWebClient, token: str, job: Job, attempt: DeliveryAttempt
) -> Found | None:
    """The share (or link) an earlier try of this attempt posted; None when Slack shows none
    (yet: a share still being attached is waited for by the completing step)."""
    if attempt.marks.get("link"):
        return await _earlier_link(client, token, job, attempt)
    file_id, channel = attempt.marks.get("file"), attempt.marks.get("channel")
    if not file_id or not channel:
        return None
    try:
        info = await client.files_info(token=token, file=file_id)
    except SlackApiError as error:
        if error.response.get("error") != "file_not_found":
            raise
        return None
    file = info.get("file") or {}
    shared_ts = share_ts(file, channel)
    if shared_ts is None:
        return None
    route = DeliveryRoute.THREAD if channel == job.origin.channel_id else DeliveryRoute.DIRECT
    return Delivery(shared_ts, route), file.get("permalink")


async def _earlier_link(
    client: AsyncWebClient, token: str, job: Job, attempt: DeliveryAttempt
) -> Found | None:
    """The link message read back from its thread (or the DM); None when it is not there or
    cannot be read."""
    channel, thread = attempt.marks["link"], attempt.marks.get("thread")
    url = job.result.video_url if job.result else ""
    try:
        if thread:
            read = await client.conversations_replies(
                token=token, channel=channel, ts=thread, limit=200, include_all_metadata=True
            )
        else:
            read = await client.conversations_history(
                token=token, channel=channel, limit=100, include_all_metadata=True
            )
    except SlackApiError as error:
        log.warning(
            "job %s: could not read <#%s> back (%s; the manifest's *:history scopes), so its "
            "video link may be posted twice",
            job.id,
            channel,
            error.response.get("error"),
        )
        return None
    for message in read.get("messages") or []:
        if _is_link_of(message, attempt.key, url):
            in_place = channel == job.origin.channel_id
            route = DeliveryRoute.LINK if in_place else DeliveryRoute.DIRECT_LINK
            return Delivery(str(message["ts"]), route), url
    return None


def share_ts(file: Payload, channel: str) -> str | None:  # Any: slack_sdk's JSON answers
    """The ts of the file's message in `channel`, from files.info's shares."""
    shares = file.get("shares") or {}
    for kind in ("public", "private"):
        for share in (shares.get(kind) or {}).get(channel) or []:
            return str(share.get("ts"))
    return None
