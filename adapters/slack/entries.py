"""The other ways in: the "Animate with LTX" message shortcut, @mentions with an image, and
the Workflow Builder step "Generate LTX video".

A workflow step's just-in-time token dies 15 minutes after the step starts (or when it
completes), so the step waits at most `Runtime.step_wait` seconds for the video. A job that takes
longer completes the step with its job id and the status message's link, and the video is
still posted in the channel when it is ready.
"""

from __future__ import annotations

import asyncio
import logging
import re

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.modal import IMAGE_TYPES, SheetRef, generate_modal
from adapters.slack.runtime import Runtime, bot_token, slack_place, team_of
from bot.events import Succeeded
from bot.model import ButtonAction, JSONObject, Payload, Reply
from bot.money import Money

log = logging.getLogger(__name__)
SHORTCUT_ID = "ltx_animate"
FUNCTION_ID = "generate_ltx_video"
STEP_OPTIONS = ("prompt", "num_frames", "resolution", "seed")  # as declared in manifest.yaml
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
NO_IMAGE = Reply(
    text="Attach a reference sheet (PNG, JPEG or WebP) to the message that "
    "mentions me, or use `/ltx` to open the form."
)
STEP_WAITING = (
    "{why} A workflow cannot press Confirm or ask for an approval, so job {job} "
    "was aborted and nothing was held: use /ltx instead."
)
NO_SHORTCUT_IMAGE = Reply(text="That message has no PNG, JPEG or WebP image to animate.")
NO_PROMPT = Reply(text="Tell me what should happen, e.g. `@ltxbot the chef tosses the pasta`.")


def first_image(files: list[Payload] | None) -> SheetRef | None:
    for file in files or []:
        if file.get("mimetype") in IMAGE_TYPES:
            return SheetRef.from_file(file)
    return None


def register_entries(app: AsyncApp, rt: Runtime) -> None:
    """Attach the shortcut, mention and workflow step listeners."""

    @app.shortcut(SHORTCUT_ID)
    async def on_shortcut(
        ack: AsyncAck, shortcut: Payload, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        rt.tasks.spawn(_shortcut(rt, shortcut, client, context), name="slack-shortcut")

    @app.event("app_mention")
    async def on_mention(
        event: Payload,
        body: Payload,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        rt.tasks.spawn(_mention(rt, event, body, client, context), name="slack-mention")

    @app.function(FUNCTION_ID)
    async def on_step(
        inputs: Payload,
        body: Payload,
        client: AsyncWebClient,
        context: AsyncBoltContext,
        complete: AsyncComplete,
        fail: AsyncFail,
    ) -> None:
        work = _step(rt, inputs, body, client, context, complete, fail)
        rt.tasks.spawn(work, name="slack-step")


async def _shortcut(
    rt: Runtime, shortcut: Payload, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if not await rt.first(context):
        return
    message = shortcut.get("message") or {}
    channel = str((shortcut.get("channel") or {}).get("id") or "")
    sheet = first_image(message.get("files"))
    user = str((shortcut.get("user") or {}).get("id") or "")
    if sheet is None:
        place = slack_place(team_of(shortcut, context), channel)
        await rt.tell(client, user, place, NO_SHORTCUT_IMAGE)
        return
    thread = message.get("thread_ts") or message.get("ts")
    view = generate_modal(channel_id=channel, thread_ts=thread, sheet=sheet, price=rt.price({}))
    await client.views_open(trigger_id=shortcut.get("trigger_id"), view=view)


async def _mention(
    rt: Runtime,
    event: Payload,
    body: Payload,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    if not await rt.first(context):
        return
    channel, ts = str(event.get("channel") or ""), str(event.get("ts") or "")
    if not await rt.once(f"message:{channel}:{ts}"):
        return  # the same message seen again (another event type, another delivery)
    team, user = team_of(body, context), str(event.get("user") or "")
    place = await rt.place(client, team, channel, str(event.get("thread_ts") or ts))
    sheet = first_image(event.get("files"))
    prompt = _MENTION.sub("", str(event.get("text") or "")).strip()
    if sheet is None or not prompt:
        await rt.tell(client, user, place, NO_IMAGE if sheet is None else NO_PROMPT)
        return
    reply = await rt.generate(
        client,
        team_id=team,
        user_id=user,
        user_name="",
        place=place,
        options={"prompt": prompt},
        sheet=sheet,
        token=bot_token(context, client),
        origin_message_id=ts,
    )
    await rt.tell(client, user, place, reply)


async def _step(
    rt: Runtime,
    inputs: Payload,
    body: Payload,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    complete: AsyncComplete,
    fail: AsyncFail,
) -> None:
    if not await rt.first(context):
        return
    team = team_of(body, context)
    user, channel, file_id = (str(inputs.get(k) or "") for k in ("requester", "channel", "sheet"))
    if not (user and channel and file_id):
        await fail(error="The step needs a requester, a channel and a reference sheet file.")
        return
    try:
        file = (await client.files_info(file=file_id)).get("file") or {}
    except SlackApiError as error:
        await fail(error=f"Could not read the sheet file ({error.response.get('error')}).")
        return
    options = {k: inputs[k] for k in STEP_OPTIONS if inputs.get(k) not in (None, "")}
    reply = await rt.generate(
        client,
        team_id=team,
        user_id=user,
        user_name="",
        place=await rt.place(client, team, channel),
        options=options,
        sheet=SheetRef.from_file(file),
        token=bot_token(context, client),
    )
    if reply.job_id is None:  # refused: budget, options, the sheet itself
        await fail(error=_plain(reply.text))
        return
    if any(b.action is ButtonAction.ABORT for b in reply.buttons):
        # The job waits for a person (its price, an approval): abort it, it would wait forever.
        actor = await rt.people.actor(client, team, user)
        await rt.commands.press(ButtonAction.ABORT, reply.job_id, actor, slack_place(team, channel))
        why = _plain(reply.text.splitlines()[0]).split(" Confirm within")[0]
        await fail(error=STEP_WAITING.format(why=why, job=reply.job_id))
        return
    ending = rt.poster.watch(reply.job_id)
    try:
        done = await asyncio.wait_for(asyncio.shield(ending), rt.step_wait)
    except TimeoutError:
        job = await rt.commands.services.jobs.get(reply.job_id)
        link = await _status_link(client, channel, job.origin.status_message_id if job else None)
        cost = str(Money(job.quoted_nanos)) if job else ""
        await complete(outputs={"job_id": reply.job_id, "video_link": link, "cost": cost})
        return
    if not isinstance(done.event, Succeeded):
        reason = getattr(done.event, "reason", "it was cancelled")
        await fail(error=f"Job {reply.job_id} did not make a video: {reason}")
        return
    outputs: JSONObject = {
        "job_id": reply.job_id,
        "video_link": done.link or "",
        "cost": str(done.event.cost),
    }
    seed = done.job.result.seed if done.job.result else None
    if seed is not None:
        outputs["seed"] = seed
    await complete(outputs=outputs)


async def _status_link(client: AsyncWebClient, channel: str, ts: str | None) -> str:
    if not ts:
        return ""
    try:
        return str((await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
    except SlackApiError:
        return ""


def _plain(text: str) -> str:
    return text.replace("**", "").replace("`", "")[:1000]
