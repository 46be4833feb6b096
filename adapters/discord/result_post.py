"""The finished video, posted: in the job's thread, as a link where it may not be attached,
else in a direct message to the requester (`bot.ports.Delivery` says which).

A place that refuses the bot for good (Missing Access, Missing Permissions, a deleted channel)
raises `NotHere`, and the poster goes private; other errors (Discord's 5xx, a dropped
connection) pass up, for the job's next delivery try.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import discord

from adapters.discord.facts import DEFAULT_UPLOAD_LIMIT, PlaceFacts
from adapters.discord.private import Requesters
from adapters.discord.render import message_parts
from bot.errors import Undeliverable
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryAttempt, DeliveryRoute

log = logging.getLogger(__name__)
MISSING_PERMISSIONS = 50013
TOO_LARGE = 40005
UNKNOWN_CHANNEL = 10003
MiB = 1024 * 1024
MAX_FILES = 10  # attachments Discord takes in one message
Videos = Sequence[tuple[Job, Path]]  # a request's takes, each with its MP4


class NotHere(Exception):
    """This place will not take the video, for good (`why`, a sentence for the requester)."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


class ResultPost:
    def __init__(self, client: discord.Client, facts: PlaceFacts, requesters: Requesters) -> None:
        self.client, self.facts, self.requesters = client, facts, requesters

    async def in_place(
        self, job: Job, target: str, video: Path, reply: Reply, attempt: DeliveryAttempt
    ) -> Delivery:
        """In the job's thread (`target`) or, when that was never made, its channel."""
        return await self.takes_in_place(job, target, [(job, video)], reply, attempt)

    async def in_private(
        self, job: Job, video: Path, reply: Reply, why: str, attempt: DeliveryAttempt
    ) -> Delivery:
        """The DM fallback; raises Undeliverable when the requester takes no DMs either."""
        return await self.takes_in_private(job, [(job, video)], reply, why, attempt)

    # --- one video, or a request's takes in one message (bot.jobs.takes_delivery) -----------

    async def takes_in_place(
        self, leader: Job, target: str, videos: Videos, reply: Reply, attempt: DeliveryAttempt
    ) -> Delivery:
        """The videos in one message in the (first) job's thread (`target`), else its
        channel."""
        origin = leader.origin
        permissions = self.facts.permissions(origin.thread_id or origin.channel_id)
        may_attach = permissions is None or permissions.attach_files
        limit = await self.upload_limit(origin.scope)
        try:
            try:
                message, linked = await self.post(
                    leader, target, videos, reply, limit, may_attach, attempt
                )
            except discord.NotFound as problem:
                if problem.code != UNKNOWN_CHANNEL or target == origin.channel_id:
                    raise
                # The guessed thread was never made (no permission before a restart).
                target = origin.channel_id
                message, linked = await self.post(
                    leader, target, videos, reply, limit, may_attach, attempt
                )
        except (discord.Forbidden, discord.NotFound) as refused:  # for good, not a hiccup
            raise NotHere(f"I can no longer post in <#{target}> ({refused.text})") from refused
        return Delivery(str(message.id), DeliveryRoute.LINK if linked else DeliveryRoute.THREAD)

    async def takes_in_private(
        self, leader: Job, videos: Videos, reply: Reply, why: str, attempt: DeliveryAttempt
    ) -> Delivery:
        """The DM fallback; raises Undeliverable when the requester takes no DMs either."""
        here = "here is your video" if len(videos) == 1 else "here are your videos"
        private = Reply(text=f"{why}, so {here}.\n{reply.text}", fields=reply.fields,
                        job_id=reply.job_id)  # fmt: skip
        try:
            channel = await self.requesters.direct_channel(leader.origin.user_id)
            message, linked = await self.post(
                leader, channel, videos, private, DEFAULT_UPLOAD_LIMIT, True, attempt
            )
        except (discord.Forbidden, discord.NotFound) as closed:
            raise Undeliverable(
                f"{why}, and Discord refused a direct message to you ({closed.text})."
            ) from closed
        except NotHere as closed:
            raise Undeliverable(f"{why}, and in a direct message {closed.why}.") from closed
        route = DeliveryRoute.DIRECT_LINK if linked else DeliveryRoute.DIRECT
        return Delivery(str(message.id), route)

    async def post(
        self,
        leader: Job,
        target: str | discord.PartialMessageable,
        videos: Videos,
        reply: Reply,
        limit: int,
        may_attach: bool,
        attempt: DeliveryAttempt,
    ) -> tuple[discord.Message, bool]:
        """One message with every MP4 (Discord takes up to 10 files in one send, within the
        upload limit), else their links, and whether it carries links. Each send carries the
        attempt's key as its nonce (discord.py sends `enforce_nonce`: Discord returns the
        message it already made with that nonce), and its channel is noted first, for a
        resumed attempt to look in (adapters.discord.posted_once)."""
        channel = (
            self.client.get_partial_messageable(int(target)) if isinstance(target, str) else target
        )
        await attempt.mark(channel=str(channel.id))
        sizes = [(await asyncio.to_thread(path.stat)).st_size for _, path in videos]
        size = sum(sizes)
        too_big: int | None = limit if may_attach else None  # None: no permission to attach
        if may_attach and size <= limit and len(videos) <= MAX_FILES:
            files = [
                await asyncio.to_thread(discord.File, path, filename=f"ltx-{take.id}.mp4")
                for take, path in videos
            ]
            try:
                return await channel.send(
                    files=files, nonce=attempt.key, **message_parts(reply)
                ), False
            except discord.HTTPException as problem:
                if problem.code == MISSING_PERMISSIONS and isinstance(target, str):
                    too_big = None
                elif problem.code != TOO_LARGE and problem.status != 413:
                    raise
                log.info("job %s: upload refused (%s); posting a link", leader.id, problem.code)
        links = [self.link(take, n, too_big) for (take, _), n in zip(videos, sizes, strict=True)]
        if any(link is None for link in links):
            what = "video" if len(videos) == 1 else "videos"
            raise NotHere(f"the {size / MiB:.1f} MiB {what} could not be attached and has no link")
        text = "\n".join(filter(None, links))
        return await channel.send(nonce=attempt.key, **message_parts(reply, text)), True

    def link(self, job: Job, size: int, limit: int | None) -> str | None:
        """The sentence with fal's link; None when there is no link to post (sync_mode)."""
        url = job.result.video_url if job.result else ""
        if not url.startswith(("https://", "http://")):
            return None
        if limit is None:
            why = f"I lack the Attach Files permission here, so the {size / MiB:.1f} MiB video"
        elif size > limit:
            why = (
                f"The video is {size / MiB:.1f} MiB, above the "
                f"{limit / MiB:.0f} MiB upload limit here, so it"
            )
        else:
            why = f"Discord refused the {size / MiB:.1f} MiB upload as too large, so the video"
        return f"{why} is here instead: {url}"

    async def upload_limit(self, guild_id: str) -> int:
        known = self.facts.upload_limit(guild_id)
        if known is not None:
            return known
        guild = self.client.get_guild(int(guild_id)) if guild_id.isdigit() else None
        if guild is None or guild.unavailable:
            try:
                guild = await self.client.fetch_guild(int(guild_id), with_counts=False)
            except (discord.HTTPException, ValueError):
                return DEFAULT_UPLOAD_LIMIT
        self.facts.remember_upload_limit(guild_id, guild.filesize_limit)
        return guild.filesize_limit
