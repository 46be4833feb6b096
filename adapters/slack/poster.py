"""The Slack Poster: a status message edited in place, then the video in its thread.

Built from the job's Origin alone (team id, channel, thread, status message ts), so it works
after a restart. Edits follow Slack's rate tiers: at most one `chat.update` per message every
`min_interval` seconds; an event that arrives sooner is kept and shown when the interval ends,
and endings (failed, cancelled, done) and a stop asked of fal are shown at once. The video
goes up as `adapters.slack.result_post` says (the thread, a link, else a DM); an ending the
channel refuses goes to the requester privately (`adapters.slack.private`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.blocks import mrkdwn, plain, reply_blocks, reply_text, status_blocks
from adapters.slack.private import Requesters
from adapters.slack.result_post import NOT_HERE, ResultPost, slack_error
from adapters.slack.take_notice import tell_in_takes_thread
from adapters.slack.takes_post import deliver_takes
from adapters.slack.tasks import BackgroundTasks
from bot.events import Cancelled, Failed, JobEvent, StopAsked, Succeeded
from bot.jobs.delivery import MemoryAttempt
from bot.jobs.record import Job
from bot.model import JSONObject, Reply
from bot.ports import Delivery, DeliveryAttempt
from commands.render import failure_notice, job_buttons, result_reply, status_text

log = logging.getLogger(__name__)
RECENT_ENDINGS = 256


class MessageBody(TypedDict):
    """What a message says: the fallback text and its Block Kit blocks."""

    text: str
    blocks: list[JSONObject]


class TokenSource(Protocol):
    async def bot_token(self, team_id: str) -> str:
        """The bot token for a workspace (raises when the app is not installed there)."""
        ...


@dataclass(frozen=True, slots=True)
class Ending:
    """How a job ended, for whoever waits on it (the Workflow Builder step)."""

    job: Job
    event: JobEvent
    link: str | None = None  # the video's permalink once posted


class SlackPoster:
    """Implements bot.ports.Poster for Slack."""

    def __init__(
        self,
        client: AsyncWebClient,
        tokens: TokenSource,
        *,
        tasks: BackgroundTasks,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        min_interval: float = 1.0,
    ) -> None:
        self.client, self.tokens, self.tasks = client, tokens, tasks
        self._clock, self._sleep, self.min_interval = clock, sleep, min_interval
        self._ts: dict[str, str] = {}  # job id -> status message ts (until the Origin has it)
        self._shown_at: dict[str, float] = {}
        self._pending: dict[str, tuple[Job, JobEvent]] = {}
        self._flushers: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._watchers: dict[str, asyncio.Future[Ending]] = {}
        # Endings nobody waited for yet: a watcher that comes late still hears of them.
        self._recent: OrderedDict[str, Ending] = OrderedDict()
        self.results = ResultPost(client, self._call, sleep)
        self.requesters = Requesters(client)

    # --- Poster -----------------------------------------------------------------------------

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        final = isinstance(event, Failed | Cancelled | Succeeded | StopAsked)
        if job.take not in (None, 1) and not isinstance(event, Failed | Cancelled):
            return job.origin.status_message_id  # take 1's status message speaks for them
        if job.take not in (None, 1) and job.origin.takes_status_id:
            token = await self.tokens.bot_token(job.origin.scope)
            await tell_in_takes_thread(self._call, self.requesters, token, job, event)
            self._ended(job, event, None)
            self.requesters.forget(job.id)
            return None
        async with self._lock(job.id):
            ts = job.origin.status_message_id or self._ts.get(job.id)
            wait = self._shown_at.get(job.id, -1e9) + self.min_interval - self._clock()
            if ts and not final and wait > 0:
                first = job.id not in self._pending
                self._pending[job.id] = (job, event)
                if first:
                    self._flushers[job.id] = self.tasks.spawn(
                        self._flush_later(job.id, wait), name=f"slack-flush-{job.id}"
                    )
                return ts
            self._pending.pop(job.id, None)
            try:
                ts = await self._show(job, event, ts)
                if isinstance(event, Failed):
                    await self._mention_failure(job, event, ts)
            except SlackApiError as refused:
                if (
                    not isinstance(event, Failed | Cancelled)
                    or slack_error(refused) not in NOT_HERE
                ):
                    raise
                token = await self.tokens.bot_token(job.origin.scope)
                text = plain(mrkdwn(status_text(job, event)), 3000)
                await self.requesters.tell(token, job.id, job.origin.user_id, text)
        if isinstance(event, Failed | Cancelled):
            self._ended(job, event, None)
            self.requesters.forget(job.id)
        return ts

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: DeliveryAttempt | None = None
    ) -> Delivery:
        """The video in the job's thread (a link where uploads are refused); when the
        conversation refuses the bot for good, in the app's DM with the requester. A resumed
        attempt with a noted file shares that file only if Slack shows it unshared."""
        assert isinstance(event, Succeeded)
        attempt = attempt or MemoryAttempt(job)
        token = await self.tokens.bot_token(job.origin.scope)
        reply = result_reply(job, event)
        status_ts = job.origin.status_message_id or self._ts.get(job.id)
        thread = job.origin.thread_id or status_ts
        delivery, link = await self.results.post(token, job, [(job, video)], reply, thread, attempt)
        async with self._lock(job.id):
            self._pending.pop(job.id, None)
            if status_ts:  # the status message ends with the result's buttons
                try:
                    await self._show(job, event, status_ts)
                except SlackApiError as problem:  # delivered: the status may lag
                    log.info("job %s: status not updated (%s)", job.id, slack_error(problem))
        self._ended(job, event, link)
        self._forget(job.id)
        self.requesters.forget(job.id)
        return delivery

    async def deliver_takes(
        self,
        leader: Job,
        takes: Sequence[tuple[Job, Path, Succeeded]],
        attempt: DeliveryAttempt | None = None,
        ended: Sequence[Job] = (),
    ) -> Delivery:
        """The finished takes in one message, exactly once (adapters.slack.takes_post)."""
        token = await self.tokens.bot_token(leader.origin.scope)
        status_ts = leader.origin.status_message_id or self._ts.get(leader.id)
        attempt = attempt or MemoryAttempt(leader)
        delivery = await deliver_takes(
            self.results, token, leader, takes, status_ts, attempt, ended
        )
        for job, _, event in takes:
            self._ended(job, event, None)
            self._forget(job.id)
        return delivery

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        """Post a Reply with its buttons in a channel of the workspace; returns its ts."""
        token = await self.tokens.bot_token(scope)
        posted = await self._call(
            "chat_postMessage", token, channel_id, channel=channel_id, **reply_body(reply)
        )
        return str(posted["ts"])

    # --- waiting on endings -----------------------------------------------------------------

    def watch(self, job_id: str) -> asyncio.Future[Ending]:
        """Resolves when this process sees the job end (delivered, failed or cancelled)."""
        if job_id not in self._watchers:
            future = asyncio.get_running_loop().create_future()
            if job_id in self._recent:
                future.set_result(self._recent.pop(job_id))
                return future
            self._watchers[job_id] = future
        return self._watchers[job_id]

    def _ended(self, job: Job, event: JobEvent, link: str | None) -> None:
        ending = Ending(job, event, link)
        watcher = self._watchers.pop(job.id, None)
        if watcher is not None and not watcher.done():
            watcher.set_result(ending)
        elif watcher is None:
            self._recent[job.id] = ending
            while len(self._recent) > RECENT_ENDINGS:
                self._recent.popitem(last=False)
        if not isinstance(event, Succeeded):
            self._forget(job.id)

    def _forget(self, job_id: str) -> None:
        for table in (self._ts, self._shown_at, self._pending):
            table.pop(job_id, None)
        lock = self._locks.get(job_id)
        if lock is not None and not lock.locked():
            del self._locks[job_id]
        flusher = self._flushers.pop(job_id, None)
        if flusher is not None and flusher is not asyncio.current_task():
            flusher.cancel()  # nothing left to show: the job has ended

    async def _mention_failure(self, job: Job, event: Failed, status_ts: str) -> None:
        """Tell the requester in the thread (an edit notifies nobody); the status message has
        the reason either way, so a refusal here is only logged."""
        token = await self.tokens.bot_token(job.origin.scope)
        text = plain(mrkdwn(failure_notice(job, event)), 3000)
        channel = job.origin.channel_id
        thread = job.origin.thread_id or status_ts
        try:
            await self._call(
                "chat_postMessage", token, channel, channel=channel, thread_ts=thread, text=text
            )
        except SlackApiError as refused:
            log.info("job %s: failure not announced (%s)", job.id, slack_error(refused))

    # --- internals --------------------------------------------------------------------------

    def _lock(self, job_id: str) -> asyncio.Lock:
        return self._locks.setdefault(job_id, asyncio.Lock())

    async def _flush_later(self, job_id: str, wait: float) -> None:
        await self._sleep(wait)
        self._flushers.pop(job_id, None)
        async with self._lock(job_id):
            pending = self._pending.pop(job_id, None)
            if pending is not None:
                job, event = pending
                await self._show(job, event, job.origin.status_message_id or self._ts.get(job_id))

    async def _show(self, job: Job, event: JobEvent, ts: str | None) -> str:
        token = await self.tokens.bot_token(job.origin.scope)
        neutral = status_text(job, event)
        # Cancel while it runs; Reroll (priced) and Details once it has ended.
        buttons = job_buttons(job)
        body = MessageBody(
            text=plain(mrkdwn(neutral), 3000), blocks=status_blocks(neutral, buttons)
        )
        channel = job.origin.channel_id
        if ts:
            try:
                await self._call("chat_update", token, channel, channel=channel, ts=ts, **body)
            except SlackApiError as error:
                if error.response.get("error") != "message_not_found":
                    raise
                ts = None  # deleted by someone: post a fresh one
        if not ts:
            posted = await self._call(
                "chat_postMessage",
                token,
                channel,
                channel=channel,
                thread_ts=job.origin.thread_id,
                **body,
            )
            ts = str(posted["ts"])
        self._ts[job.id] = ts
        self._shown_at[job.id] = self._clock()
        return ts

    async def _call(
        self, method: str, token: str, join: str, **kwargs: object
    ) -> AsyncSlackResponse:
        """A Web API call; once, on not_in_channel, join the (public) channel and try again."""
        call: Callable[..., Awaitable[AsyncSlackResponse]] = getattr(self.client, method)
        try:
            return await call(token=token, **kwargs)
        except SlackApiError as error:
            if error.response.get("error") != "not_in_channel":
                raise
            await self.client.conversations_join(token=token, channel=join)
            return await call(token=token, **kwargs)


def reply_body(reply: Reply) -> MessageBody:
    """chat.postMessage / postEphemeral / respond arguments for a neutral Reply."""
    return MessageBody(text=reply_text(reply), blocks=reply_blocks(reply))
