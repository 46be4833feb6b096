"""Telling a job's requester something only they see, when the job's channel refuses the bot.

While the `response_url` of their own command or button press lives (Slack keeps it 30 minutes
for up to five answers), an ephemeral answer there needs no membership of the channel; after
that, or after a restart, the app's direct message with them (chat.postMessage to the user id).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)
RESPONSE_URL_LIFE_SECONDS = 29 * 60  # Slack's 30 minutes, with a minute to spare
REMEMBERED = 2048


@dataclass(frozen=True, slots=True)
class _Answer:
    user_id: str
    respond: AsyncRespond
    expires: float


class Requesters:
    def __init__(self, client: AsyncWebClient, *, clock: Callable[[], float] = time.monotonic):
        self.client, self.clock = client, clock
        self._answers: OrderedDict[str, _Answer] = OrderedDict()  # job id -> its response_url

    def remember(self, job_id: str, user_id: str, respond: AsyncRespond) -> None:
        self._answers[job_id] = _Answer(user_id, respond, self.clock() + RESPONSE_URL_LIFE_SECONDS)
        self._answers.move_to_end(job_id)
        while len(self._answers) > REMEMBERED:
            self._answers.popitem(last=False)

    def forget(self, job_id: str) -> None:
        self._answers.pop(job_id, None)

    async def tell(self, token: str, job_id: str, user_id: str, text: str) -> bool:
        """False when neither the response_url nor a DM took it."""
        answer = self._answers.get(job_id)
        if answer is not None and answer.user_id == user_id and self.clock() < answer.expires:
            try:
                sent = await answer.respond(
                    text=text, response_type="ephemeral", replace_original=False
                )
                if sent.status_code == 200:
                    return True
                log.info("job %s: the response_url answered %s", job_id, sent.status_code)
            except Exception as refused:  # bolt raises what aiohttp gave it
                log.info("job %s: the response_url refused (%s)", job_id, type(refused).__name__)
        try:
            await self.client.chat_postMessage(token=token, channel=user_id, text=text)
            return True
        except SlackApiError as refused:
            log.warning("job %s: could not tell the requester privately (%s)", job_id, refused)
            return False
