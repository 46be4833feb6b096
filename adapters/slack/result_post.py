"""The finished video, posted: in the job's thread, as a link where the upload is refused, else
in the app's direct message with the requester (`bot.ports.Delivery` says which).

The video goes up with files_upload_v2 and counts once files.info shows it shared where it
was sent, because Slack can take a moment to attach an upload. A conversation that refuses the
bot for good (Slack's errors in `NOT_HERE`) raises `NotHere` and the poster goes private;
other errors (5xx, a dropped connection) pass up, for the job's next delivery try.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.blocks import plain, reply_text
from bot.errors import Undeliverable
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryRoute
from commands.render import short

log = logging.getLogger(__name__)
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
Uploads = Sequence[tuple[Job, bytes]]  # a request's takes, each with its MP4


def _title(job: Job) -> str:
    """The file's title: the prompt, numbered for a take."""
    take = f"Take {job.take}/{len(job.take_ids)} · " if job.take is not None else ""
    return f"{take}{job.request.prompt}"


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
        self, token: str, job: Job, data: bytes | Uploads, reply: Reply, thread: str | None
    ) -> tuple[Delivery, str | None]:
        """In the job's thread; the delivery and the video's permalink. `data`: the job's MP4,
        or a request's takes (job, MP4), all in one upload call (`job`: take 1)."""
        channel = job.origin.channel_id
        try:
            return await self._post(token, job, data, reply, channel, thread, DeliveryRoute.THREAD)
        except SlackApiError as error:
            if slack_error(error) not in NOT_HERE:
                raise
            raise NotHere(f"I can no longer post in <#{channel}> ({slack_error(error)})") from error

    async def in_private(
        self, token: str, job: Job, data: bytes | Uploads, reply: Reply, why: str
    ) -> tuple[Delivery, str | None]:
        """The app's DM with the requester; raises Undeliverable when Slack refuses it too."""
        private = Reply(text=f"{why}, so here is your video.\n{reply.text}", fields=reply.fields)
        try:
            opened = await self.client.conversations_open(token=token, users=job.origin.user_id)
            dm = str((opened.get("channel") or {}).get("id") or "")
            return await self._post(token, job, data, private, dm, None, DeliveryRoute.DIRECT)
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
        data: bytes | Uploads,
        reply: Reply,
        channel: str,
        thread: str | None,
        route: DeliveryRoute,
    ) -> tuple[Delivery, str | None]:
        uploads = [(job, data)] if isinstance(data, bytes) else list(data)
        files = [
            {
                "content": content,
                "filename": f"ltx-{take.id}.mp4",
                "title": plain(short(_title(take), 80), 250),
            }
            for take, content in uploads
        ]
        try:
            upload = await self.call(
                "files_upload_v2",
                token,
                channel,
                file_uploads=files,
                channel=channel,
                thread_ts=thread,
                initial_comment=reply_text(reply),
            )
        except SlackApiError as error:
            if slack_error(error) not in UPLOAD_REFUSED:
                raise
            takes = [take for take, _ in uploads]
            return await self._link(token, takes, reply, channel, thread, route, slack_error(error))
        file_id = str(((upload.get("files") or [{}])[0] or {}).get("id") or "")
        shared_ts, link = await self._confirm_shared(token, file_id, channel)
        return Delivery(shared_ts or file_id, route), link

    async def _link(
        self,
        token: str,
        takes: list[Job],
        reply: Reply,
        channel: str,
        thread: str | None,
        route: DeliveryRoute,
        why: str,
    ) -> tuple[Delivery, str | None]:
        urls = [take.result.video_url if take.result else "" for take in takes]
        if not all(url.startswith(("https://", "http://")) for url in urls):
            raise NotHere(f"Slack refused the upload ({why}) and the video has no link")
        log.info("job %s: upload refused (%s); posting a link", takes[0].id, why)
        url = " ".join(urls)
        text = f"{reply_text(reply)}\nSlack refused the upload ({why}), so the video is here: {url}"
        posted = await self.call(
            "chat_postMessage", token, channel, channel=channel, thread_ts=thread, text=text
        )
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
            shares = file.get("shares") or {}
            for kind in ("public", "private"):
                for share in (shares.get(kind) or {}).get(channel) or []:
                    return str(share.get("ts")), link
        # Not confirmed: do not raise, a retry would upload the video a second time.
        log.warning("file %s was uploaded but Slack has not shown it in %s yet", file_id, channel)
        return None, link
