"""The finished video, posted: in the job's thread, as a link where the upload is refused, else
in the app's direct message with the requester (`bot.ports.Delivery` says which).

The video goes up in files_upload_v2's three steps (get an upload URL, upload, complete the
share), the file id noted on the job before the share, and counts once files.info shows it
shared where it was sent, because Slack can take a moment to attach an upload. A resumed try
with a noted file asks files.info first and completes only when Slack shows no share. A
conversation that refuses the bot for good (Slack's errors in `NOT_HERE`) raises `NotHere`
and the poster goes private; other errors (5xx, a dropped connection) pass up, for the job's
next delivery try.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.blocks import plain, reply_text
from adapters.slack.posted_once import link_metadata, share_ts
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


@dataclass(frozen=True, slots=True)
class Share:
    """Where one upload is shared, and with what words."""

    token: str
    job: Job
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


class ResultPost:
    def __init__(self, client: AsyncWebClient, call: Call, sleep: Sleep) -> None:
        self.client, self.call, self.sleep = client, call, sleep

    async def in_place(
        self,
        token: str,
        job: Job,
        data: bytes,
        reply: Reply,
        thread: str | None,
        attempt: DeliveryAttempt,
    ) -> tuple[Delivery, str | None]:
        """In the job's thread; the delivery and the video's permalink."""
        channel = job.origin.channel_id
        try:
            return await self._post(
                token, job, data, reply, channel, thread, DeliveryRoute.THREAD, attempt
            )
        except SlackApiError as error:
            if slack_error(error) not in NOT_HERE:
                raise
            raise NotHere(f"I can no longer post in <#{channel}> ({slack_error(error)})") from error

    async def in_private(
        self, token: str, job: Job, data: bytes, reply: Reply, why: str, attempt: DeliveryAttempt
    ) -> tuple[Delivery, str | None]:
        """The app's DM with the requester; raises Undeliverable when Slack refuses it too."""

        async def post(private: Reply, dm: str) -> tuple[Delivery, str | None]:
            return await self._post(
                token, job, data, private, dm, None, DeliveryRoute.DIRECT, attempt
            )

        return await self.privately(token, job.origin.user_id, reply, why, "your video", post)

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

    async def _post(
        self,
        token: str,
        job: Job,
        data: bytes,
        reply: Reply,
        channel: str,
        thread: str | None,
        route: DeliveryRoute,
        attempt: DeliveryAttempt,
    ) -> tuple[Delivery, str | None]:
        """files_upload_v2's three steps; the file id is noted on the job after the upload and
        before the share is completed (exactly once: a resumed try asks files.info)."""
        share = Share(token, job, reply, channel, thread, route)
        marks = attempt.marks
        if marks.get("file") and marks.get("channel") == channel and marks.get("completing"):
            resumed = await self._resume(share, marks["file"])
            if resumed is not None:
                return resumed
        try:
            got = await self.call(
                "files_getUploadURLExternal",
                token,
                channel,
                filename=f"ltx-{job.id}.mp4",
                length=len(data),
            )
        except SlackApiError as error:
            if slack_error(error) not in UPLOAD_REFUSED:
                raise
            why = slack_error(error)
            return await self._link(token, job, reply, channel, thread, route, why, attempt)
        file_id, url = str(got["file_id"]), str(got["upload_url"])
        # slack_sdk's own step 2 of files_upload_v2 (its proxy, TLS and retry settings).
        uploaded = await self.client._upload_file(
            url=url,
            data=data,
            logger=log,
            timeout=self.client.timeout,
            proxy=self.client.proxy,
            ssl=self.client.ssl,
        )
        if uploaded.status != 200:
            raise SlackRequestError(f"the upload of {file_id} failed ({uploaded.status})")
        # One write: a file never completed is never shown, so only this step needs a note.
        await attempt.mark(file=file_id, channel=channel, completing="1")
        return await self._complete(share, file_id)

    async def _resume(self, share: Share, file_id: str) -> tuple[Delivery, str | None] | None:
        """An earlier try was completing this file's share: files.info's shares decide whether
        it happened; complete it only if not. None: Slack lost the file (upload afresh)."""
        try:
            shared_ts, link = await self._confirm_shared(share.token, file_id, share.channel)
        except SlackApiError as error:
            if slack_error(error) != "file_not_found":
                raise
            return None
        if shared_ts is not None:
            log.info("job %s: file %s is already shared; not again", share.job.id, file_id)
            return Delivery(shared_ts, share.route), link
        return await self._complete(share, file_id)

    async def _complete(self, share: Share, file_id: str) -> tuple[Delivery, str | None]:
        """Share the uploaded file in the thread (or the DM), then wait for Slack to show it."""
        title = plain(short(share.job.request.prompt, 80), 250)
        await self.call(
            "files_completeUploadExternal",
            share.token,
            share.channel,
            files=[{"id": file_id, "title": title}],
            channel_id=share.channel,
            thread_ts=share.thread,
            initial_comment=reply_text(share.reply),
        )
        shared_ts, link = await self._confirm_shared(share.token, file_id, share.channel)
        return Delivery(shared_ts or file_id, share.route), link

    async def _link(
        self,
        token: str,
        job: Job,
        reply: Reply,
        channel: str,
        thread: str | None,
        route: DeliveryRoute,
        why: str,
        attempt: DeliveryAttempt,
    ) -> tuple[Delivery, str | None]:
        url = job.result.video_url if job.result else ""
        if not url.startswith(("https://", "http://")):
            raise NotHere(f"Slack refused the upload ({why}) and the video has no link")
        log.info("job %s: upload refused (%s); posting a link", job.id, why)
        text = f"{reply_text(reply)}\nSlack refused the upload ({why}), so the video is here: {url}"
        # No idempotency key of Slack's: the thread noted first, the key in the message's
        # metadata, and a resumed try reads the thread back for it (posted_once).
        await attempt.mark(link=channel, thread=thread or "")
        posted = await self.call("chat_postMessage", token, channel, channel=channel,
                                 thread_ts=thread, text=text,
                                 metadata=link_metadata(attempt.key))  # fmt: skip
        linked = DeliveryRoute.DIRECT_LINK if route is DeliveryRoute.DIRECT else DeliveryRoute.LINK
        return Delivery(str(posted["ts"]), linked), url

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
