"""The refusals a submitted form can be told before its ack, as errors under its inputs.

Beyond what `modal.read_view` checks from the form alone: the file's first bytes (a text file
named .png, a sign-in page instead of the file), the channel (not allowed, or the bot cannot
post there), and the price (above the per-request maximum, more than a cap has left). They take
a Slack call or two and a read of the budget, so they get `FORM_CHECK_SECONDS` of Slack's 3:
whatever is not known by then is left to the work after the ack, which checks everything again
and answers ephemerally, as before.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.files import slack_attachment
from adapters.slack.form_fields import OPTION_PREFIX
from adapters.slack.modal import (
    CHANNEL_BLOCK,
    PROMPT_BLOCK,
    SAVED_BLOCK,
    SHEET_BLOCK,
    Submission,
)
from adapters.slack.runtime import Runtime
from bot.errors import InvalidSheet
from bot.media.intake import HEAD_BYTES, check_head
from bot.model import Invocation
from commands.precheck import Concern, Refusal

log = logging.getLogger(__name__)
FORM_CHECK_SECONDS = 1.5  # of Slack's 3 s for the ack, leaving room for the network both ways


async def refusals_in_form(
    rt: Runtime,
    client: AsyncWebClient,
    sub: Submission,
    *,
    team_id: str,
    user_id: str,
    user_name: str,
    token: str,
) -> dict[str, str]:
    """Per-block errors for `response_action: errors`; empty when nothing refuses the form
    (or the checks did not finish in time: the work after the ack decides then)."""
    try:
        async with asyncio.timeout(FORM_CHECK_SECONDS):
            sheet, money = await asyncio.gather(
                _sheet_problem(rt, sub, token),
                _request_refusal(rt, client, sub, team_id, user_id, user_name),
            )
    except TimeoutError:
        log.info("form checks took over %.1f s; left to after the ack", FORM_CHECK_SECONDS)
        return {}
    except Exception:  # a check failing is no refusal: the work after the ack decides
        log.exception("could not check a submitted form before its ack")
        return {}
    errors: dict[str, str] = {}
    if sheet is not None:
        errors[SHEET_BLOCK] = sheet
    if money is not None:
        errors.setdefault(_block_of(money, sub), money.text)
    return errors


async def _sheet_problem(rt: Runtime, sub: Submission, token: str) -> str | None:
    """The refusal of a file whose first bytes are no PNG, JPEG or WebP."""
    if sub.sheet is None:
        return None
    attachment = slack_attachment(
        sub.sheet, token=token, session=rt.http(), api_url=rt.settings.slack_api_url
    )
    try:
        check_head((await attachment.read(HEAD_BYTES))[:HEAD_BYTES])
    except InvalidSheet as problem:
        return str(problem)
    return None


async def _request_refusal(
    rt: Runtime,
    client: AsyncWebClient,
    sub: Submission,
    team_id: str,
    user_id: str,
    user_name: str,
) -> Refusal | None:
    if sub.channel_id is None:
        return None
    actor, place = await asyncio.gather(
        rt.people.actor(client, team_id, user_id, user_name),
        rt.place(client, team_id, sub.channel_id, sub.thread_ts),
    )
    options = {**sub.options, **({"sheet_name": sub.saved} if sub.saved else {})}
    invocation = Invocation("generate", actor, place, options)
    return await rt.commands.refusal_before_hold(invocation)


def _block_of(refusal: Refusal, sub: Submission) -> str:
    """Price refusals go under the length the user gave (frames, else duration)."""
    if refusal.concern is Concern.CHANNEL:
        return CHANNEL_BLOCK
    if refusal.concern is Concern.SAVED_SHEET:
        return SAVED_BLOCK
    if refusal.concern is Concern.PRICE:
        length = "duration" if "duration" in sub.options else "num_frames"
        return OPTION_PREFIX + length
    return PROMPT_BLOCK
