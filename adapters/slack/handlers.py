"""Listeners for `/ltx`, the form, its live price and the job buttons.

Every listener acks first (within Slack's 3 seconds) and hands the rest to a kept task. The
one exception is the form's submission, which checks what it can before its ack (a file is
chosen and is an image, the options are in range, the channel and the price would not be
refused: `form_checks`, 1.5 s at most), so that mistakes show under the input they concern.

Nothing on the way to an ack waits for the database: the "already handled?" claim of a
delivery (Slack retries what it thinks was not acked) is started by the middleware and
awaited by the work after the ack (`Runtime.first`), so in a burst an ack never queues
behind other requests' writes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import BUTTON_ACTION_PREFIX, mrkdwn, parse_button_value
from adapters.slack.form_checks import refusals_in_form
from adapters.slack.form_fields import PRICED
from adapters.slack.form_run import accept, take_in_later
from adapters.slack.inbox import Form
from adapters.slack.modal import (
    CALLBACK_ID,
    PROMPT_BLOCK,
    generate_modal,
    read_view,
    refreshed_modal,
)
from adapters.slack.poster import reply_body
from adapters.slack.private_files import send_privately
from adapters.slack.runtime import Runtime, bot_token, team_of
from adapters.slack.sheet_compose import (
    SHEET_BUTTONS,
    compose_sheet_modal,
    open_sheet_prompt,
    register_sheet_compose,
)
from adapters.slack.sheet_save import register_sheet_save, save_sheet_modal
from adapters.slack.textcmd import ADMIN_USAGE, USAGE, parse_text
from bot.errors import InvalidRequest
from bot.model import ButtonAction, Invocation, Payload, Reply

log = logging.getLogger(__name__)
SLASH_COMMAND = "/ltx"
# Buttons of the requester's own prompt (price, approval): answered in place of the prompt.
CONFIRMING = (ButtonAction.CONFIRM, ButtonAction.ABORT, ButtonAction.REQUEST_APPROVAL)


def request_key(body: Payload) -> str | None:
    """What makes a delivery unique: the event id, or the trigger of a command or click."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return "event:" + str(body["event_id"])
    if body.get("trigger_id"):
        return "trigger:" + str(body["trigger_id"])
    return None


def register(app: AsyncApp, rt: Runtime) -> None:
    """Attach the dedup middleware and the command, form and button listeners."""

    @app.middleware
    async def claim_delivery(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        # Runs after bolt verified the signature, so a forged request cannot burn a key.
        key = request_key(req.body)
        if key is not None:
            rt.claim(req.context, key)  # started now, awaited after the ack
        return await next()

    @app.command(SLASH_COMMAND)
    async def on_ltx(
        ack: AsyncAck,
        body: Payload,
        client: AsyncWebClient,
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        rt.tasks.spawn(_slash(rt, body, client, context, respond), name="slack-slash")

    @app.view(CALLBACK_ID)
    async def on_submit(
        ack: AsyncAck,
        body: Payload,
        view: Payload,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        sub = read_view(view, max_sheet_bytes=rt.settings.max_sheet_bytes)
        user = body.get("user") or {}
        team = team_of(body, context)
        user_name = user.get("name") or user.get("username") or ""
        if not sub.errors:  # what needs Slack or the budget, within the ack's time
            sub.errors = await refusals_in_form(
                rt,
                client,
                sub,
                team_id=team,
                user_id=user.get("id", ""),
                user_name=user_name,
                token=bot_token(context, client),
            )
        if sub.errors:
            await ack(response_action="errors", errors=sub.errors)
            return
        if (sub.sheet is None and sub.saved is None) or sub.channel_id is None:
            await ack()
            return
        if sub.saved is not None:
            sub.options["sheet_name"] = sub.saved
        form = Form(str(view.get("id")), team, user.get("id", ""), user_name, sub.channel_id,
                    sub.thread_ts, sub.options, sub.sheet)  # fmt: skip
        # Stored before the ack: a replica killed after it loses nothing.
        if await accept(rt, ack, form, block=PROMPT_BLOCK):
            take_in_later(rt, client, context, form, bot_token(context, client))

    @app.action(re.compile("^(" + "|".join(sorted(PRICED)) + ")$"))
    async def on_priced_edit(
        ack: AsyncAck, body: Payload, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        view = body.get("view") or {}
        if view.get("callback_id") != CALLBACK_ID:
            return
        sub = read_view(view, max_sheet_bytes=rt.settings.max_sheet_bytes)
        fresh = refreshed_modal(view, rt.price(sub.options))

        async def update() -> None:
            if await rt.first(context):
                await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=fresh)

        rt.tasks.spawn(update(), name="slack-price")

    @app.action(re.compile("^" + re.escape(BUTTON_ACTION_PREFIX)))
    async def on_button(
        ack: AsyncAck,
        body: Payload,
        action: Payload,
        client: AsyncWebClient,
        context: AsyncBoltContext,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        rt.tasks.spawn(_press(rt, body, action, client, context, respond), name="slack-button")

    register_sheet_save(app, rt)
    register_sheet_compose(app, rt)


async def _slash(
    rt: Runtime,
    body: Payload,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    if not await rt.first(context):
        return
    team, channel = team_of(body, context), str(body.get("channel_id") or "")
    if str(body.get("text") or "").strip().lower() == "sheet":  # compose: a form for the files
        view = compose_sheet_modal(channel_id=channel)
        await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        return
    try:
        parsed = parse_text(str(body.get("text") or ""))
    except InvalidRequest as problem:
        await respond(text=mrkdwn(str(problem)) + "\n\n" + USAGE, response_type="ephemeral")
        return
    if parsed.name is None:
        view = generate_modal(channel_id=channel or None, prompt=parsed.prompt, price=rt.price({}))
        await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        return
    if parsed.name == "sheets" and parsed.options.get("action") == "save":
        name = str(parsed.options.get("name") or "")
        view = save_sheet_modal(channel_id=channel, name=name)
        await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        return
    if parsed.name in ("help", "admin help"):
        await respond(
            text=USAGE if parsed.name == "help" else ADMIN_USAGE, response_type="ephemeral"
        )
        return
    actor = await rt.people.actor(
        client, team, str(body.get("user_id")), str(body.get("user_name") or "")
    )
    place = await rt.place(client, team, channel)
    reply = await rt.commands.dispatch(Invocation(parsed.name, actor, place, parsed.options))
    if reply.file is not None:  # admin usage / export: the file goes to a DM, never the channel
        first_line = mrkdwn(reply.text.splitlines()[0] if reply.text else "")
        sent = await send_privately(client, actor.user_id, reply.file, first_line)
        reply = replace(reply, text=f"{reply.text}\n{sent}", file=None)
    if reply.job_id is not None:  # a private way back to the requester, while it lives
        rt.poster.requesters.remember(reply.job_id, actor.user_id, respond)
    await _respond(respond, reply)


async def _press(
    rt: Runtime,
    body: Payload,
    action: Payload,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    parsed = parse_button_value(str(action.get("value") or ""))
    if parsed is None or not await rt.first(context):
        return
    button, job_id = parsed
    user = body.get("user") or {}
    team = team_of(body, context)
    channel = str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )
    message = body.get("message") or {}
    thread = message.get("thread_ts")
    if button in SHEET_BUTTONS:  # a composed sheet's: its prompt form (the id is the sheet's)
        await open_sheet_prompt(rt, client, body, button, job_id, channel)
        return
    if button is ButtonAction.FINAL and thread is None:
        thread = message.get("ts")  # a draft's status message heads its thread: the final too
    actor = await rt.people.actor(
        client, team, str(user.get("id")), str(user.get("name") or user.get("username") or "")
    )
    place = await rt.place(client, team, channel, thread)
    reply = await rt.commands.press(button, job_id, actor, place)
    rt.poster.requesters.remember(job_id, actor.user_id, respond)
    # The price prompt is answered in its place, so its buttons cannot be pressed again.
    await _respond(respond, reply, replace_original=button in CONFIRMING)


async def _respond(respond: AsyncRespond, reply: Reply, *, replace_original: bool = False) -> None:
    """Answer through the response_url: ephemeral unless the reply is meant for everyone."""
    kind = "ephemeral" if reply.ephemeral else "in_channel"
    await respond(**reply_body(reply), response_type=kind, replace_original=replace_original)
