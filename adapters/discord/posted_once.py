"""A resumed delivery looks for its own earlier post before posting again.

Discord dedups an enforced nonce for a few minutes only; a replica that resumes later (the
crashed one's lease ran out, the machine rebooted) reads the messages after the status message
in the channel the attempt noted, and takes the bot's message carrying this job's MP4 (named
`ltx-JOBID.mp4`), its link, or its nonce as the delivery. A request's takes posted together
are looked for the same way, by any take's MP4 or link (`takes`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.jobs.record import Job
from bot.ports import Delivery, DeliveryAttempt, DeliveryRoute

if TYPE_CHECKING:  # discord.types imports discord itself: only for the checker
    from discord.types.message import Message

log = logging.getLogger(__name__)
PAGE = 100
PAGES = 10  # a thousand messages after the status message: far more than one job's thread


async def earlier_post(
    client: discord.Client, job: Job, attempt: DeliveryAttempt, takes: Sequence[Job] = ()
) -> Delivery | None:
    """The message an earlier try of this attempt posted, if Discord has it (`takes`: the
    jobs whose videos the message carries, when not just `job`'s)."""
    carried = list(takes) or [job]
    names = {_file_name(each) for each in carried}
    channel = attempt.marks.get("channel")
    if not channel or client.user is None:
        return None
    origin = job.origin
    in_place = channel in {origin.thread_id, origin.channel_id, origin.status_message_id}
    # The thread (its id is the status message's) and the channel hold the result after the
    # status message; a DM has no status message, so its newest messages are read.
    after: str | None = origin.status_message_id if in_place else None
    for _ in range(PAGES):
        try:
            page = await client.http.logs_from(channel, PAGE, after=after)
        except discord.HTTPException as problem:
            log.info("job %s: could not read <#%s> (%s)", job.id, channel, problem.code)
            return None
        for message in page:
            if str(message["author"]["id"]) == str(client.user.id) and _carries(
                message, carried, attempt
            ):
                linked = not any(a.get("filename") in names for a in message.get("attachments", []))
                return Delivery(str(message["id"]), _route(in_place, linked))
        if len(page) < PAGE or after is None:
            return None
        after = max((str(m["id"]) for m in page), key=int)  # newest first: page onwards
    return None


def _carries(message: Message, jobs: Sequence[Job], attempt: DeliveryAttempt) -> bool:
    if str(message.get("nonce") or "") == attempt.key:
        return True
    names = {_file_name(job) for job in jobs}
    if any(a.get("filename") in names for a in message.get("attachments") or []):
        return True
    urls = [job.result.video_url for job in jobs if job.result and job.result.video_url]
    return any(url in str(message.get("content") or "") for url in urls)


def _file_name(job: Job) -> str:
    return f"ltx-{job.id}.mp4"  # as adapters.discord.result_post names the upload


def _route(in_place: bool, linked: bool) -> DeliveryRoute:
    if in_place:
        return DeliveryRoute.LINK if linked else DeliveryRoute.THREAD
    return DeliveryRoute.DIRECT_LINK if linked else DeliveryRoute.DIRECT
