"""The Discord Poster: a public status message edited in place, a thread, the video posted back.

Everything goes through the bot token on the channel API, never the interaction webhook: an
interaction token dies 15 minutes after the command, and a generation can take longer. The
poster works from the job's Origin alone, so it keeps working after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import discord

from adapters.discord.facts import PlaceFacts, missing_for_thread
from adapters.discord.posted_once import earlier_post
from adapters.discord.private import Requesters
from adapters.discord.render import MessageParts, clip, message_parts, view_of
from adapters.discord.result_post import NotHere, ResultPost
from adapters.discord.take_notice import tell_in_takes_thread
from adapters.discord.throttle import EditThrottle
from bot.events import Cancelled, Failed, JobEvent, Succeeded
from bot.jobs.delivery import MemoryAttempt
from bot.jobs.record import Job
from bot.model import Reply
from bot.ports import Delivery, DeliveryAttempt
from commands.render import failure_notice, job_buttons, result_reply, short, status_text
from commands.takes_reply import takes_reply

log = logging.getLogger(__name__)
MISSING_PERMISSIONS = 50013
THREAD_EXISTS = 160004


class NotConnected(RuntimeError):
    """Discord did not log in in time; the runner keeps the job and tries again later."""


class DiscordPoster:
    def __init__(
        self,
        client: discord.Client,
        facts: PlaceFacts,
        *,
        ready: asyncio.Event,
        throttle: EditThrottle | None = None,
        ready_timeout: float = 60,
    ) -> None:
        self.client = client
        self.facts = facts
        self.ready = ready
        self.throttle = throttle or EditThrottle()
        self.ready_timeout = ready_timeout
        self.requesters = Requesters(client)
        self.results = ResultPost(client, facts, self.requesters)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._status: dict[str, str] = {}  # job -> status message, until the store has it
        self._threads: dict[str, str | None] = {}  # job -> its thread (None: none could be made)
        self._notes: dict[str, str] = {}  # job -> why it has no thread

    # --- the Poster protocol --------------------------------------------------------------

    async def progress(self, job: Job, event: JobEvent) -> str | None:
        """Create the status message (and its thread) on the first event, then edit it. An
        ending the channel refuses goes to the requester privately (`Requesters.tell`)."""
        ending = isinstance(event, Failed | Cancelled)
        if job.take not in (None, 1) and not ending:
            return job.origin.status_message_id  # take 1's status message speaks for the takes
        await self._connected()
        if job.take not in (None, 1) and job.origin.takes_status_id:
            await tell_in_takes_thread(self.client, self.requesters, job, event)
            return None
        async with self._locks[job.id]:
            status_id = self._status.get(job.id) or job.origin.status_message_id
            if status_id is not None:
                await self._edit_status(job, status_id, event)
            elif not ending:
                status_id = await self._open(job, event)
            else:  # ended before any status message: say it privately if the channel refuses
                try:
                    status_id = await self._open(job, event)
                except (discord.Forbidden, discord.NotFound):
                    content = self._status_content(job, event)
                    await self.requesters.tell(job.id, job.origin.user_id, content)
            if isinstance(event, Failed) and status_id is not None:
                await self._mention_failure(job, event)
            if ending:
                self._forget(job.id)
            return status_id

    async def deliver(
        self, job: Job, video: Path, event: JobEvent, attempt: DeliveryAttempt | None = None
    ) -> Delivery:
        """Post the result (the MP4, or a link when it may not be attached) in the job's
        thread; when the place refuses the bot for good, in a DM to the requester. A resumed
        attempt first looks for its earlier post (adapters.discord.posted_once)."""
        await self._connected()
        assert isinstance(event, Succeeded)
        attempt = attempt or MemoryAttempt(job)
        async with self._locks[job.id]:
            reply = result_reply(job, event)
            target = self._thread_of(job)
            found = await earlier_post(self.client, job, attempt) if attempt.resumed else None
            if found is not None:
                log.info("job %s: already posted as %s; not again", job.id, found.message_id)
                delivery = found
            else:
                try:
                    delivery = await self.results.in_place(job, target, video, reply, attempt)
                except NotHere as refused:
                    log.info("job %s: %s; trying a DM", job.id, refused.why)
                    delivery = await self.results.in_private(
                        job, video, reply, refused.why, attempt
                    )
            status_id = self._status.get(job.id) or job.origin.status_message_id
            if status_id is not None:
                try:
                    await self._edit_status(job, status_id, event)
                except discord.HTTPException as problem:  # delivered: the status may lag
                    log.info("job %s: status not updated (%s)", job.id, problem.code)
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
        """The takes in one message (up to 10 files) in take 1's thread, else in a DM; exactly
        once like `deliver` (take 1's key as the nonce, a resumed attempt looks first)."""
        await self._connected()
        attempt = attempt or MemoryAttempt(leader)
        async with self._locks[leader.id]:
            reply = takes_reply([(job, event) for job, _, event in takes], ended)
            videos = [(job, video) for job, video, _ in takes]
            jobs = [job for job, _ in videos]
            found = None
            if attempt.resumed:
                found = await earlier_post(self.client, leader, attempt, jobs)
            if found is not None:
                log.info("takes of %s: already posted as %s", leader.id, found.message_id)
                delivery = found
            else:
                try:
                    delivery = await self.results.takes_in_place(
                        leader, self._thread_of(leader), videos, reply, attempt
                    )
                except NotHere as refused:
                    log.info("takes of %s: %s; trying a DM", leader.id, refused.why)
                    delivery = await self.results.takes_in_private(
                        leader, videos, reply, refused.why, attempt
                    )
            status_id = self._status.get(leader.id) or leader.origin.status_message_id
            own = next((event for job, _, event in takes if job.id == leader.id), None)
            if status_id is not None and own is not None:
                try:
                    await self._edit_status(leader, status_id, own)
                except discord.HTTPException as problem:  # delivered: the status may lag
                    log.info("job %s: status not updated (%s)", leader.id, problem.code)
            for job, _, _ in takes:
                self._forget(job.id)
                self.requesters.forget(job.id)
            return delivery

    async def announce(self, *, scope: str, channel_id: str, reply: Reply) -> str | None:
        """Post a Reply with its buttons in a channel (the admin channel, a requester's)."""
        await self._connected()
        message = await self._channel(channel_id).send(**message_parts(reply))
        return str(message.id)

    # --- status ---------------------------------------------------------------------------

    async def _open(self, job: Job, event: JobEvent) -> str:
        origin = job.origin
        where = origin.thread_id or origin.channel_id
        missing = [] if origin.thread_id else missing_for_thread(self.facts.permissions(where))
        if missing:
            self._note(job, missing)
        content = self._status_content(job, event)
        view = self._status_view(job, event)
        message = await self._channel(where).send(content=content, **_view(view))
        self.throttle.mark(job.id)
        status_id = str(message.id)
        self._status[job.id] = status_id
        if origin.thread_id is None and not missing:
            await self._start_thread(job, status_id, event)
        elif origin.thread_id is None:
            self._threads[job.id] = None
        return status_id

    async def _start_thread(self, job: Job, status_id: str, event: JobEvent) -> None:
        name = clip(f"🎬 {short(job.request.prompt, 80)}", 100)
        try:
            await self.client.http.start_thread_with_message(
                job.origin.channel_id,
                status_id,
                name=name,
                auto_archive_duration=1440,
                rate_limit_per_user=None,
            )
        except discord.HTTPException as problem:
            if problem.code == THREAD_EXISTS:
                self._threads[job.id] = status_id
                return
            if problem.code != MISSING_PERMISSIONS:
                log.warning("job %s: no thread (%s)", job.id, problem.code)
            self._threads[job.id] = None
            self._note(
                job, ["Create Public Threads"] if problem.code == MISSING_PERMISSIONS else []
            )
            await self._edit_status(job, status_id, event)
            return
        # A thread started from a message shares the message's id.
        self._threads[job.id] = status_id

    def _note(self, job: Job, missing: list[str]) -> None:
        if missing:
            why = f"I lack the {' and '.join(missing)} permission here"
        else:
            why = "Discord refused to open one"
        self._notes[job.id] = (
            f"ℹ️ No thread for this job: {why}, so its updates and the video come in this channel."
        )

    async def _edit_status(self, job: Job, status_id: str, event: JobEvent) -> None:
        where = job.origin.thread_id or job.origin.channel_id
        content = self._status_content(job, event)
        view = self._status_view(job, event)
        message = self._channel(where).get_partial_message(int(status_id))

        async def edit() -> None:
            try:
                await message.edit(content=content, view=view)
            except (discord.Forbidden, discord.NotFound):
                if not isinstance(event, Failed | Cancelled):
                    raise
                # The ending must reach the requester (now, or when a parked edit runs).
                await self.requesters.tell(job.id, job.origin.user_id, content)

        await self.throttle.submit(job.id, edit)

    def _status_content(self, job: Job, event: JobEvent) -> str:
        note = self._notes.get(job.id)
        text = status_text(job, event)
        return clip(f"{text}\n{note}" if note else text, 2000)

    def _status_view(self, job: Job, event: JobEvent) -> discord.ui.View | None:
        # Once delivered, the result message carries Reroll and Details.
        return None if isinstance(event, Succeeded) else view_of(job_buttons(job))

    async def _mention_failure(self, job: Job, event: Failed) -> None:
        """Tell the requester in the thread (an edit pings nobody); the status message has
        the reason either way, so a refusal here is only logged."""
        try:
            await self._channel(self._thread_of(job)).send(content=failure_notice(job, event))
        except discord.HTTPException as problem:
            log.info("job %s: failure not announced (%s)", job.id, problem.code)

    # --- result ---------------------------------------------------------------------------

    def _thread_of(self, job: Job) -> str:
        if job.origin.thread_id:
            return job.origin.thread_id
        if job.id in self._threads:
            return self._threads[job.id] or job.origin.channel_id
        # After a restart: the thread, if one was made, has the status message's id.
        return job.origin.status_message_id or job.origin.channel_id

    # --- plumbing -------------------------------------------------------------------------

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(channel_id))

    async def _connected(self) -> None:
        try:
            await asyncio.wait_for(self.ready.wait(), self.ready_timeout)
        except TimeoutError:
            raise NotConnected("Discord is not connected; the job will be posted later") from None

    def _forget(self, job_id: str) -> None:
        self._status.pop(job_id, None)
        self._threads.pop(job_id, None)
        self._notes.pop(job_id, None)
        self.throttle.forget(job_id)
        lock = self._locks.get(job_id)
        if lock is not None and not lock.locked():
            del self._locks[job_id]


def _view(view: discord.ui.View | None) -> MessageParts:
    return {} if view is None else {"view": view}
