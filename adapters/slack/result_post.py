"""The finished video, or a request's takes, posted in one message: in the job's thread, as a
link where the upload is refused, else in the app's direct message with the requester
(`bot.ports.Delivery` says which). One path for both: a single video is a take list of one.

The videos go up in files_upload_v2's three steps (an upload URL and an upload per MP4, then
one files.completeUploadExternal sharing them all, a file per video), the file ids noted on
the posting job before the share (`files`, the first also as `file`, which
`adapters.slack.posted_once` looks for), and count once files.info shows the first shared where
it was sent, because Slack can take a moment to attach an upload. A resumed try with noted
files asks files.info first and completes only when Slack shows no share. A conversation that
refuses the bot for good (Slack's errors in `NOT_HERE`) raises `NotHere` and the post goes
private; other errors (5xx, a dropped connection) pass up, for the job's next delivery try.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.blocks import plain, reply_text
from adapters.slack.posted_once import earlier_post, link_metadata, share_ts
from bot.errors import Undeliverable
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryAttempt, DeliveryRoute
from commands.render import short

log = logging.getLogger(__name__)
T = TypeVar("T")
SHARE_CHECK_DELAYS = (0.5, 1, 1, 2, 2, 3, 3)  # files.info looks, about 12 s in all
# Slack's answers for a conversation the bot may not post in (or a DM it may not open).
NOT_HERE = frozenset(
    {
        "access_denied",
        "cannot_dm_bot",
        "channel_is_archived",
        "channel_not_found",
        "ekm_access_denied",
        "is_archived",
        "messages_tab_disabled",
        "method_not_supported_for_channel_type",
        "no_permission",
        "not_in_channel",
        "posting_to_general_channel_denied",
        "restricted_action",
        "restricted_action_non_threadable_channel",
        "restricted_action_read_only_channel",
        "restricted_action_thread_locked",
        "restricted_action_thread_only_channel",
        "team_access_not_granted",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
    }
)
UPLOAD_REFUSED = frozenset({"missing_scope"})  # no files:write: a link still goes
# A Web API call that joins a public channel once on not_in_channel (SlackPoster._call).
Call = Callable[..., Awaitable[AsyncSlackResponse]]
Sleep = Callable[[float], Awaitable[None]]
Videos = Sequence[tuple[Job, Path]]  # one video, or a request's takes, each with its MP4
Uploads = Sequence[tuple[Job, bytes]]
Posted = tuple[Delivery, str | None]  # the delivery and the (first) video's permalink


@dataclass(frozen=True, slots=True)
class Share:
    """Where one message of uploads is shared, and with what words."""

    token: str
    uploads: Uploads
    reply: Reply
    channel: str
    thread: str | None
    route: DeliveryRoute


class NotHere(Exception):
    """This conversation will not take the video, for good (`why`, for the requester)."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


def slack_error(error: SlackApiError) -> str:
    return str(error.response.get("error") or "")


def _title(job: Job) -> str:
    """A file's title: the prompt, numbered for a take."""
    take = f"Take {job.take}/{len(job.take_ids)} · " if job.take is not None else ""
    return plain(short(f"{take}{job.request.prompt}", 80), 250)


class ResultPost:
    def __init__(self, client: AsyncWebClient, call: Call, sleep: Sleep) -> None:
        self.client, self.call, self.sleep = client, call, sleep

    async def post(
        self,
        token: str,
        leader: Job,
        videos: Videos,
        reply: Reply,
        thread: str | None,
        attempt: DeliveryAttempt,
    ) -> Posted:
        """The videos in one message in the leader's thread, else its DM; a resumed attempt
        first looks for its earlier post (`adapters.slack.posted_once`)."""
        first = videos[0][0]
        found = await earlier_post(self.client, token, first, attempt) if attempt.resumed else None
        if found is not None:
            log.info("job %s: already shared as %s; not again", leader.id, found[0].message_id)
            return found
        uploads = [(job, await asyncio.to_thread(video.read_bytes)) for job, video in videos]
        try:
            return await self.in_place(token, leader, uploads, reply, thread, attempt)
        except NotHere as refused:
            log.info("job %s: %s; trying a DM", leader.id, refused.why)
            return await self.in_private(token, leader, uploads, reply, refused.why, attempt)

    async def in_place(
        self,
        token: str,
        leader: Job,
        uploads: Uploads,
        reply: Reply,
        thread: str | None,
        attempt: DeliveryAttempt,
    ) -> Posted:
        """In the leader's thread; the delivery and the (first) video's permalink."""
        channel = leader.origin.channel_id
        share = Share(token, uploads, reply, channel, thread, DeliveryRoute.THREAD)
        try:
            return await self._post(share, attempt)
        except SlackApiError as error:
            if slack_error(error) not in NOT_HERE:
                raise
            raise NotHere(f"I can no longer post in <#{channel}> ({slack_error(error)})") from error

    async def in_private(
        self,
        token: str,
        leader: Job,
        uploads: Uploads,
        reply: Reply,
        why: str,
        attempt: DeliveryAttempt,
    ) -> Posted:
        """The app's DM with the requester; raises Undeliverable when Slack refuses it too."""

        async def post(private: Reply, dm: str) -> Posted:
            share = Share(token, uploads, private, dm, None, DeliveryRoute.DIRECT)
            return await self._post(share, attempt)

        what = "your video" if len(uploads) == 1 else "your videos"
        return await self.privately(token, leader.origin.user_id, reply, why, what, post)

    async def privately(
        self,
        token: str,
        user_id: str,
        reply: Reply,
        why: str,
        what: str,
        post: Callable[[Reply, str], Awaitable[T]],
    ) -> T:
        """`post` into the app's DM with the user, the reply led by why it comes there (`what`:
        "your video", "your videos"); raises Undeliverable when Slack refuses the DM too."""
        here = "here are" if what.endswith("s") else "here is"
        private = Reply(text=f"{why}, so {here} {what}.\n{reply.text}", fields=reply.fields)
        try:
            opened = await self.client.conversations_open(token=token, users=user_id)
            return await post(private, str((opened.get("channel") or {}).get("id") or ""))
        except SlackApiError as error:
            if slack_error(error) not in NOT_HERE:
                raise
            raise Undeliverable(
                f"{why}, and Slack refused a direct message to you ({slack_error(error)})."
            ) from error
        except NotHere as closed:
            raise Undeliverable(f"{why}, and in a direct message {closed.why}.") from closed

    async def _post(self, share: Share, attempt: DeliveryAttempt) -> Posted:
        """files_upload_v2's three steps; the file ids are noted on the job after the uploads
        and before the share is completed (exactly once: a resumed try asks files.info)."""
        marks = attempt.marks
        noted = [file for file in (marks.get("files") or marks.get("file", "")).split(",") if file]
        if noted and marks.get("channel") == share.channel and marks.get("completing"):
            resumed = await self._resume(share, noted)
            if resumed is not None:
                return resumed
        file_ids: list[str] = []
        for job, data in share.uploads:
            try:
                got = await self.call(
                    "files_getUploadURLExternal", share.token, share.channel,
                    filename=f"ltx-{job.id}.mp4", length=len(data),
                )  # fmt: skip
            except SlackApiError as error:
                if slack_error(error) not in UPLOAD_REFUSED:
                    raise
                return await self._link(share, slack_error(error), attempt)
            file_id, url = str(got["file_id"]), str(got["upload_url"])
            # slack_sdk's own step 2 of files_upload_v2 (its proxy, TLS and retry settings).
            uploaded = await self.client._upload_file(
                url=url, data=data, logger=log, timeout=self.client.timeout,
                proxy=self.client.proxy, ssl=self.client.ssl,
            )  # fmt: skip
            if uploaded.status != 200:
                raise SlackRequestError(f"the upload of {file_id} failed ({uploaded.status})")
            file_ids.append(file_id)
        # One write: a file never completed is never shown, so only this step needs a note.
        await attempt.mark(
            files=",".join(file_ids), file=file_ids[0], channel=share.channel, completing="1"
        )
        return await self._complete(share, file_ids)

    async def _resume(self, share: Share, file_ids: list[str]) -> Posted | None:
        """An earlier try was completing these files' share: files.info's shares decide
        whether it happened; complete it only if not. None: Slack lost the file (upload
        afresh)."""
        try:
            shared_ts, link = await self._confirm_shared(share.token, file_ids[0], share.channel)
        except SlackApiError as error:
            if slack_error(error) != "file_not_found":
                raise
            return None
        if shared_ts is not None:
            log.info("file %s is already shared in %s; not again", file_ids[0], share.channel)
            return Delivery(shared_ts, share.route), link
        return await self._complete(share, file_ids)

    async def _complete(self, share: Share, file_ids: list[str]) -> Posted:
        """Share the uploaded files in one message in the thread (or the DM), then wait for
        Slack to show it."""
        titles = [_title(job) for job, _ in share.uploads]
        last = len(titles) - 1  # a resumed share names the noted files
        files = [{"id": file, "title": titles[min(n, last)]} for n, file in enumerate(file_ids)]
        await self.call(
            "files_completeUploadExternal", share.token, share.channel, files=files,
            channel_id=share.channel, thread_ts=share.thread,
            initial_comment=reply_text(share.reply),
        )  # fmt: skip
        shared_ts, link = await self._confirm_shared(share.token, file_ids[0], share.channel)
        return Delivery(shared_ts or file_ids[0], share.route), link

    async def _link(self, share: Share, why: str, attempt: DeliveryAttempt) -> Posted:
        """Uploads refused: every video's link in one message (the first job's link finds it
        on a resume), its thread noted first."""
        urls = [job.result.video_url if job.result else "" for job, _ in share.uploads]
        one = len(urls) == 1
        if not all(url.startswith(("https://", "http://")) for url in urls):
            what = "the video has no link" if one else "the videos have no link"
            raise NotHere(f"Slack refused the upload ({why}) and {what}")
        log.info("job %s: upload refused (%s); posting a link", share.uploads[0][0].id, why)
        where = "the video is here" if one else "the videos are here"
        text = f"{reply_text(share.reply)}\nSlack refused the upload ({why}), so {where}: "
        # No idempotency key of Slack's: the thread noted first, the key in the message's
        # metadata, and a resumed try reads the thread back for it (posted_once).
        await attempt.mark(link=share.channel, thread=share.thread or "")
        posted = await self.call(
            "chat_postMessage", share.token, share.channel, channel=share.channel,
            thread_ts=share.thread, text=text + " ".join(urls),
            metadata=link_metadata(attempt.key),
        )  # fmt: skip
        direct = share.route is DeliveryRoute.DIRECT
        linked = DeliveryRoute.DIRECT_LINK if direct else DeliveryRoute.LINK
        return Delivery(str(posted["ts"]), linked), urls[0]

    async def _confirm_shared(
        self, token: str, file_id: str, channel: str
    ) -> tuple[str | None, str | None]:
        """The ts of the file's message in the channel and its permalink, once Slack shows it."""
        link = None
        for delay in (0, *SHARE_CHECK_DELAYS):
            if delay:
                await self.sleep(delay)
            info = await self.client.files_info(token=token, file=file_id)
            file = info.get("file") or {}
            link = file.get("permalink")
            shared_ts = share_ts(file, channel)
            if shared_ts is not None:
                return shared_ts, link
        # Not confirmed: do not raise, a retry would upload the video a second time.
        log.warning("file %s was uploaded but Slack has not shown it in %s yet", file_id, channel)
        return None, link
