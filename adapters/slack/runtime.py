"""What the Slack listeners share: the commands, the poster, people, kept tasks, dedup keys.

The listeners only ack and hand work to `Runtime`; everything here runs after the ack.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace

import aiohttp
from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.files import slack_attachment
from adapters.slack.inbox import Inbox
from adapters.slack.keyvalue import KeyValueStore
from adapters.slack.modal import SheetRef
from adapters.slack.people import People, slack_place
from adapters.slack.poster import SlackPoster, reply_body
from adapters.slack.reach import Reach
from adapters.slack.tasks import BackgroundTasks
from bot.errors import InvalidRequest
from bot.model import Attachment, Invocation, Payload, Place, Reply
from bot.request import AUTO
from bot.request_parsing import parse_request
from bot.settings import Settings
from commands import Commands
from commands.creative import as_draft, split_choices
from commands.generate import price

log = logging.getLogger(__name__)
SEEN_PREFIX = "slack:seen:"
CLAIM = "ltxbot_delivery_claim"  # in bolt's request context: (key, task)
SEEN_SECONDS = 3600  # Slack retries for minutes, not hours
STEP_WAIT_SECONDS = 13 * 60  # a workflow step's token lives 15 minutes from its start


@dataclass
class Runtime:
    settings: Settings
    commands: Commands
    poster: SlackPoster
    people: People
    tasks: BackgroundTasks
    store: KeyValueStore
    step_wait: float = STEP_WAIT_SECONDS  # how long a workflow step waits for its video
    reach: Reach = field(default_factory=Reach)
    inbox: Inbox | None = None  # forms stored before their ack (None: run from memory)
    _session: aiohttp.ClientSession | None = field(default=None, init=False)

    def http(self) -> aiohttp.ClientSession:
        """One HTTP session for file downloads, opened on first use (inside the loop)."""
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=60)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def once(self, key: str) -> bool:
        """True the first time `key` is seen (across replicas when the store is shared)."""
        return await self.store.claim(key=SEEN_PREFIX + key, ttl_seconds=SEEN_SECONDS)

    def claim(self, context: AsyncBoltContext, key: str) -> None:
        """Start claiming a delivery's key without waiting (the ack must not wait for the
        store); `first(context)` awaits the answer."""
        claim = self.tasks.spawn(self.once(key), name="slack-claim", after_the_ack=False)
        context[CLAIM] = (key, claim)

    async def first(self, context: AsyncBoltContext) -> bool:
        """False when this delivery was already handled here or on another replica (a Slack
        retry): the work after the ack checks this before doing anything."""
        claim: tuple[str, asyncio.Task[bool]] | None = context.get(CLAIM)
        if claim is None:
            return True
        key, task = claim
        try:
            first = bool(await asyncio.shield(task))
        except Exception:  # the store failed: answering twice beats never answering
            log.warning("could not check whether Slack delivery %s is a repeat", key)
            return True
        if not first:
            log.info("ignored a repeated Slack delivery %s", key)
        return first

    async def place(
        self, client: AsyncWebClient, team_id: str, channel_id: str, thread_ts: str | None = None
    ) -> Place:
        """The Place, with the refusal when the bot cannot post there: nothing is held then."""
        place = slack_place(team_id, channel_id, thread_ts)
        problem = await self.reach.problem(client, channel_id)
        return replace(place, delivery_problem=problem, attach_problem=problem)

    def price(self, options: dict[str, object]) -> str | None:
        """The quote for the form's options as they stand; None while they are not valid."""
        try:
            values, choices = split_choices({k: v for k, v in options.items() if k != "prompt"})
            request = parse_request({"prompt": "price", **values})
            if choices.draft:
                request = as_draft(request, values)
        except InvalidRequest:
            return None
        each = price(request, self.commands.services).cost
        cost = each * choices.takes  # the exact total of the takes
        shown = f"~{cost}" if request.resolution == AUTO else str(cost)
        if choices.takes > 1:
            shown += f" ({choices.takes} takes x {each.exact_text()})"
        return shown

    async def generate(
        self,
        client: AsyncWebClient,
        *,
        team_id: str,
        user_id: str,
        user_name: str,
        place: Place,
        options: dict[str, object],
        sheet: SheetRef | None,
        token: str,
        origin_message_id: str | None = None,
        job_id: str | None = None,
    ) -> Reply:
        """Download the sheet with the bot token (none: `options` name a saved one) and run
        `generate`; returns its Reply."""
        actor = await self.people.actor(client, team_id, user_id, user_name)
        attachment = None if sheet is None else self.attachment(sheet, token)
        invocation = Invocation(
            "generate",
            actor,
            place,
            dict(options),
            attachment=attachment,
            origin_message_id=origin_message_id,
            job_id=job_id,
        )
        return await self.commands.dispatch(invocation)

    def attachment(self, sheet: SheetRef, token: str) -> Attachment:
        """The private file as an Attachment, fetched with the bot token when read."""
        return slack_attachment(
            sheet, token=token, session=self.http(), api_url=self.settings.slack_api_url
        )

    async def tell(self, client: AsyncWebClient, user_id: str, place: Place, reply: Reply) -> None:
        """An ephemeral answer where the user is; a direct message when that is refused."""
        body = reply_body(reply)
        try:
            if reply.ephemeral:
                await client.chat_postEphemeral(
                    channel=place.channel_id, user=user_id, thread_ts=place.thread_id, **body
                )
            else:
                await client.chat_postMessage(
                    channel=place.channel_id, thread_ts=place.thread_id, **body
                )
            return
        except SlackApiError as error:
            log.info(
                "could not answer in %s (%s); sending a DM",
                place.channel_id,
                error.response.get("error"),
            )
        await client.chat_postMessage(channel=user_id, **body)


def team_of(body: Payload, context: AsyncBoltContext) -> str:
    """The workspace id of a request (bolt's context knows it once authorised)."""
    team = context.team_id or (body.get("team") or {}).get("id")
    return str(team or body.get("team_id") or (body.get("user") or {}).get("team_id") or "")


def bot_token(context: AsyncBoltContext, client: AsyncWebClient) -> str:
    """The installation's bot token (not a workflow step's short-lived one) for downloads."""
    return str(context.bot_token or client.token or "")


__all__ = ["Runtime", "bot_token", "slack_place", "team_of"]
