"""A request's takes in one Slack message (bot.jobs.takes_delivery), exactly once.

Like `adapters.slack.result_post` for one video, files_upload_v2's three steps are run here: an
upload URL and an upload for every take's MP4, then one files.completeUploadExternal sharing
them all in take 1's thread (one message, a file per take). The file ids are noted on the
posting take's record before the share (`files`, with the first as `file`, so
`adapters.slack.posted_once` finds the share as it finds one video's); a resumed try asks
files.info and completes only when Slack shows no share. Uploads refused (no files:write):
one message with every take's link, its thread noted first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from slack_sdk.errors import SlackApiError, SlackRequestError

from adapters.slack.blocks import mrkdwn, plain, reply_text, status_blocks
from adapters.slack.posted_once import earlier_post, link_metadata
from adapters.slack.result_post import NOT_HERE, UPLOAD_REFUSED, NotHere, ResultPost, slack_error
from bot.events import Succeeded
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryAttempt, DeliveryRoute
from commands.render import short
from commands.takes_reply import takes_reply

log = logging.getLogger(__name__)
Uploads = Sequence[tuple[Job, bytes]]  # a request's takes, each with its MP4
Takes = Sequence[tuple[Job, Path, Succeeded]]


def _title(job: Job) -> str:
    """The file's title: the prompt, numbered for a take."""
    take = f"Take {job.take}/{len(job.take_ids)} · " if job.take is not None else ""
    return plain(short(f"{take}{job.request.prompt}", 80), 250)


class TakesPost(ResultPost):
    """`ResultPost`'s client, call and share checks, for several files in one message."""

    async def deliver(
        self,
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
        first = takes[0][0]
        found = await earlier_post(self.client, token, first, attempt) if attempt.resumed else None
        if found is not None:
            log.info("takes of %s: already shared as %s", leader.id, found[0].message_id)
            delivery = found[0]
        else:
            uploads = [(job, await asyncio.to_thread(video.read_bytes)) for job, video, _ in takes]
            thread = leader.origin.thread_id or status_ts
            try:
                delivery = await self.takes_in_place(token, leader, uploads, reply, thread, attempt)
            except NotHere as refused:
                delivery = await self.takes_in_private(
                    token, leader, uploads, reply, refused.why, attempt
                )
        if status_ts:
            channel = leader.origin.channel_id
            text, blocks = plain(mrkdwn(reply.text), 3000), status_blocks(reply.text, reply.buttons)
            try:
                await self.call(
                    "chat_update", token, channel, channel=channel, ts=status_ts, text=text,
                    blocks=blocks,
                )  # fmt: skip
            except SlackApiError as problem:  # delivered: the status may lag
                log.info("job %s: status not updated (%s)", leader.id, slack_error(problem))
        return delivery

    async def takes_in_place(
        self,
        token: str,
        leader: Job,
        uploads: Uploads,
        reply: Reply,
        thread: str | None,
        attempt: DeliveryAttempt,
    ) -> Delivery:
        channel = leader.origin.channel_id
        try:
            return await self._post_takes(
                token, uploads, reply, channel, thread, DeliveryRoute.THREAD, attempt
            )
        except SlackApiError as error:
            if slack_error(error) not in NOT_HERE:
                raise
            raise NotHere(f"I can no longer post in <#{channel}> ({slack_error(error)})") from error

    async def takes_in_private(
        self,
        token: str,
        leader: Job,
        uploads: Uploads,
        reply: Reply,
        why: str,
        attempt: DeliveryAttempt,
    ) -> Delivery:
        """The app's DM with the requester; raises Undeliverable when Slack refuses it too."""

        async def post(private: Reply, dm: str) -> Delivery:
            return await self._post_takes(
                token, uploads, private, dm, None, DeliveryRoute.DIRECT, attempt
            )

        return await self.privately(token, leader.origin.user_id, reply, why, "your videos", post)

    async def _post_takes(
        self,
        token: str,
        uploads: Uploads,
        reply: Reply,
        channel: str,
        thread: str | None,
        route: DeliveryRoute,
        attempt: DeliveryAttempt,
    ) -> Delivery:
        """Upload every MP4, note the file ids, then complete the one share."""
        marks = attempt.marks
        noted = [file for file in marks.get("files", "").split(",") if file]
        if noted and marks.get("channel") == channel and marks.get("completing"):
            try:
                shared_ts, _ = await self._confirm_shared(token, noted[0], channel)
            except SlackApiError as error:
                if slack_error(error) != "file_not_found":
                    raise
            else:
                if shared_ts is not None:
                    return Delivery(shared_ts, route)
                titles = [_title(job) for job, _ in uploads]
                return await self._complete_takes(
                    token, noted, titles, reply, channel, thread, route
                )
        file_ids: list[str] = []
        for job, data in uploads:
            try:
                got = await self.call(
                    "files_getUploadURLExternal", token, channel,
                    filename=f"ltx-{job.id}.mp4", length=len(data),
                )  # fmt: skip
            except SlackApiError as error:
                if slack_error(error) not in UPLOAD_REFUSED:
                    raise
                why = slack_error(error)
                return await self._links(
                    token, uploads, reply, channel, thread, route, why, attempt
                )
            file_id, url = str(got["file_id"]), str(got["upload_url"])
            # slack_sdk's own step 2 of files_upload_v2 (its proxy, TLS and retry settings).
            uploaded = await self.client._upload_file(
                url=url, data=data, logger=log, timeout=self.client.timeout,
                proxy=self.client.proxy, ssl=self.client.ssl,
            )  # fmt: skip
            if uploaded.status != 200:
                raise SlackRequestError(f"the upload of {file_id} failed ({uploaded.status})")
            file_ids.append(file_id)
        await attempt.mark(
            files=",".join(file_ids), file=file_ids[0], channel=channel, completing="1"
        )
        titles = [_title(job) for job, _ in uploads]
        return await self._complete_takes(token, file_ids, titles, reply, channel, thread, route)

    async def _complete_takes(
        self,
        token: str,
        file_ids: list[str],
        titles: list[str],
        reply: Reply,
        channel: str,
        thread: str | None,
        route: DeliveryRoute,
    ) -> Delivery:
        last = len(titles) - 1  # a resumed share names the noted files (the takes then)
        files = [{"id": file, "title": titles[min(n, last)]} for n, file in enumerate(file_ids)]
        await self.call(
            "files_completeUploadExternal", token, channel, files=files, channel_id=channel,
            thread_ts=thread, initial_comment=reply_text(reply),
        )  # fmt: skip
        shared_ts, _ = await self._confirm_shared(token, file_ids[0], channel)
        return Delivery(shared_ts or file_ids[0], route)

    async def _links(
        self,
        token: str,
        uploads: Uploads,
        reply: Reply,
        channel: str,
        thread: str | None,
        route: DeliveryRoute,
        why: str,
        attempt: DeliveryAttempt,
    ) -> Delivery:
        """Every take's link in one message (the first take's link finds it on a resume)."""
        urls = [job.result.video_url if job.result else "" for job, _ in uploads]
        if not all(url.startswith(("https://", "http://")) for url in urls):
            raise NotHere(f"Slack refused the upload ({why}) and the videos have no link")
        log.info("takes of %s: upload refused (%s); posting links", uploads[0][0].id, why)
        text = (
            f"{reply_text(reply)}\nSlack refused the upload ({why}), so the videos are here: "
            + " ".join(urls)
        )
        await attempt.mark(link=channel, thread=thread or "")
        posted = await self.call("chat_postMessage", token, channel, channel=channel,
                                 thread_ts=thread, text=text,
                                 metadata=link_metadata(attempt.key))  # fmt: skip
        linked = DeliveryRoute.DIRECT_LINK if route is DeliveryRoute.DIRECT else DeliveryRoute.LINK
        return Delivery(str(posted["ts"]), linked)
