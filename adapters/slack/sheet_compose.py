"""`/ltx sheet` on Slack: a form with a file input for 1 to 6 pictures, their labels and kinds
(one line per picture); its submission runs the same `sheet` command as Discord, and its
buttons ("Generate...", "Draft ($X)") open a prompt form that runs generate from that sheet.

Slack has no ephemeral files (an upload into a channel is seen by all its members), so the
composed PNG goes into the app's direct message with the requester (as the admin reports do,
`private_files.send_privately`), and the answer with the buttons is ephemeral in the channel
the form was opened from. The buttons carry the sheet's hash in their value, and the prompt
form its hash in its metadata, so both work after a restart (`bot.media.composed_sheets`).
"""

from __future__ import annotations

import json
from dataclasses import replace

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import mrkdwn
from adapters.slack.form_fields import text
from adapters.slack.form_run import accept, take_in_later
from adapters.slack.inbox import Form
from adapters.slack.modal import FILETYPES, SheetRef
from adapters.slack.private_files import send_privately
from adapters.slack.runtime import Runtime, bot_token, team_of
from bot.errors import UserError
from bot.media.composed_sheets import suggested_name
from bot.model import ButtonAction, Invocation, JSONObject, Payload
from commands.sheet import MAX_IMAGES, sheet_size, size_options
from commands.sheets import NAME_RULE

COMPOSE_ID, PROMPT_ID, SAVE_ID = "ltx_sheet_compose", "ltx_sheet_prompt", "ltx_sheet_keep"
FILES, LABELS, KINDS, PROMPT, SEED = "pictures", "labels", "kinds", "prompt", "seed"
DURATION, SIZE = "duration", "size"
NAME = "name"
SHEET_BUTTONS = (ButtonAction.SHEET_GENERATE, ButtonAction.SHEET_DRAFT, ButtonAction.SHEET_SAVE)
LABELS_HINT = (
    "What each picture shows, one line per picture, in the pictures' order "
    '("a chef in a white jacket")'
)
KINDS_HINT = "character, prop or location, one line per picture (a character: the biggest panel)"
SIZE_HINT = (
    "1280x720, a named size such as portrait_16_9, or an aspect ratio such as 9:16; empty: "
    "the channel's preset size, else 1536x896"
)
PROMPT_HINT = "What happens in the video; the sheet's sentence goes first"


def _input(block: str, label: str, hint: str, element: JSONObject, optional: bool) -> JSONObject:
    return {"type": "input", "block_id": block, "label": text(label), "hint": text(hint),
            "optional": optional, "element": element}  # fmt: skip


def _lines(action: str, *, multiline: bool = True, max_length: int = 1300) -> JSONObject:
    return {"type": "plain_text_input", "action_id": action, "multiline": multiline,
            "max_length": max_length}  # fmt: skip


def compose_sheet_modal(*, channel_id: str) -> JSONObject:
    """The form: the pictures, their labels and kinds; the channel kept for the answer."""
    pictures: JSONObject = {"type": "file_input", "action_id": FILES,
                            "filetypes": list(FILETYPES), "max_files": MAX_IMAGES}  # fmt: skip
    return {
        "type": "modal",
        "callback_id": COMPOSE_ID,
        "title": text("Compose a sheet", 24),
        "submit": text("Compose", 24),
        "close": text("Cancel", 24),
        "private_metadata": json.dumps({"c": channel_id}),
        "blocks": [
            _input(FILES, "Pictures", f"1 to {MAX_IMAGES}: PNG, JPEG or WebP", pictures, False),
            _input(LABELS, "Labels", LABELS_HINT, _lines(LABELS), True),
            _input(KINDS, "Kinds", KINDS_HINT, _lines(KINDS, max_length=200), True),
            _input(SIZE, "Size", SIZE_HINT, _lines(SIZE, multiline=False, max_length=20), True),
        ],
    }


def sheet_prompt_modal(*, sha: str, draft: bool, channel_id: str) -> JSONObject:
    """The prompt form of one composed sheet; generate (or a draft) runs on its submit."""
    _seed = _lines(SEED, multiline=False, max_length=10)
    _duration = _lines(DURATION, multiline=False, max_length=6)
    return {
        "type": "modal",
        "callback_id": PROMPT_ID,
        "title": text("Draft from the sheet" if draft else "Generate from the sheet", 24),
        "submit": text("Draft" if draft else "Generate", 24),
        "close": text("Cancel", 24),
        "private_metadata": json.dumps({"c": channel_id, "s": sha, "d": draft}),
        "blocks": [
            _input(PROMPT, "Prompt", PROMPT_HINT, _lines(PROMPT, max_length=3000), False),
            _input(DURATION, "Length in seconds", "Empty: 5 s (121 frames)", _duration, True),
            _input(SEED, "Seed", "Empty: a new one each time", _seed, True),
        ],
    }


def save_composed_modal(*, sha: str, channel_id: str, suggested: str | None = None) -> JSONObject:
    """The name to keep a composed sheet under for the workspace (`sheets save`), suggested
    from its labels."""
    name = _lines(NAME, multiline=False, max_length=40)
    if suggested:
        name["initial_value"] = suggested
    return {
        "type": "modal",
        "callback_id": SAVE_ID,
        "title": text("Save the sheet", 24),
        "submit": text("Save", 24),
        "close": text("Cancel", 24),
        "private_metadata": json.dumps({"c": channel_id, "s": sha}),
        "blocks": [_input(NAME, "Name", f"{NAME_RULE}; everyone here can use it", name, False)],
    }


async def open_sheet_prompt(
    rt: Runtime, client: AsyncWebClient, body: Payload, button: ButtonAction, sha: str,
    channel_id: str,
) -> None:  # fmt: skip
    """A composed sheet's button was pressed: open its prompt (or name) form."""
    if button is ButtonAction.SHEET_SAVE:
        suggested = await suggested_name(rt.settings.data_dir, sha)
        view = save_composed_modal(sha=sha, channel_id=channel_id, suggested=suggested)
    else:
        draft = button is ButtonAction.SHEET_DRAFT
        view = sheet_prompt_modal(sha=sha, draft=draft, channel_id=channel_id)
    await client.views_open(trigger_id=body.get("trigger_id"), view=view)


def _value(values: Payload, block: str) -> str:
    return str((values.get(block, {}).get(block) or {}).get("value") or "").strip()


def register_sheet_compose(app: AsyncApp, rt: Runtime) -> None:
    @app.view(COMPOSE_ID)
    async def on_compose(
        ack: AsyncAck, body: Payload, view: Payload, client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:  # fmt: skip
        values: Payload = (view.get("state") or {}).get("values") or {}
        files = (values.get(FILES, {}).get(FILES) or {}).get("files") or []
        if not 1 <= len(files) <= MAX_IMAGES:
            problem = f"Choose 1 to {MAX_IMAGES} pictures (PNG, JPEG or WebP)."
            await ack(response_action="errors", errors={FILES: problem})
            return
        sizes = size_options(_value(values, SIZE))
        try:
            sheet_size(sizes.get("resolution"), sizes.get("aspect"))  # as `ltxbot sheet` checks
        except UserError as problem:
            await ack(response_action="errors", errors={SIZE: str(problem)})
            return
        await ack()  # composing takes seconds: the answer comes after the ack
        options = {LABELS: _value(values, LABELS), KINDS: _value(values, KINDS), **sizes}

        async def work() -> None:
            if not await rt.first(context) or not await rt.once("view:" + str(view.get("id"))):
                return
            user, team, channel = _who(body, view, context)
            actor = await rt.people.actor(client, team, user["id"], user["name"])
            place = await rt.place(client, team, channel)
            token = bot_token(context, client)
            pictures = tuple(rt.attachment(SheetRef.from_file(f), token) for f in files)
            invocation = Invocation("sheet", actor, place, dict(options), attachments=pictures)
            reply = await rt.commands.dispatch(invocation)
            if reply.file is not None:
                first = mrkdwn(reply.text.splitlines()[0])
                sent = await send_privately(
                    client, actor.user_id, reply.file, first, name=reply.file_name
                )
                reply = replace(reply, text=f"{reply.text}\n{sent}", file=None)
            await rt.tell(client, actor.user_id, place, reply)

        rt.tasks.spawn(work(), name="slack-sheet-compose")

    @app.view(PROMPT_ID)
    async def on_prompt(
        ack: AsyncAck, body: Payload, view: Payload, client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:  # fmt: skip
        values: Payload = (view.get("state") or {}).get("values") or {}
        meta = json.loads(view.get("private_metadata") or "{}")
        options: dict[str, object] = {PROMPT: _value(values, PROMPT), "composed_sheet": meta["s"]}
        options |= {k: _value(values, k) for k in (SEED, DURATION) if _value(values, k)}
        if meta.get("d"):
            options["draft"] = True
        user, team, channel = _who(body, view, context)
        form = Form(str(view.get("id")), team, user["id"], user["name"], channel, None, options,
                    None)  # fmt: skip
        # Stored before the ack, like the generate form's (adapters.slack.inbox).
        if await accept(rt, ack, form, block=PROMPT):
            take_in_later(rt, client, context, form, bot_token(context, client))

    @app.view(SAVE_ID)
    async def on_save(
        ack: AsyncAck, body: Payload, view: Payload, client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:  # fmt: skip
        await ack()
        values: Payload = (view.get("state") or {}).get("values") or {}
        sha = json.loads(view.get("private_metadata") or "{}").get("s")
        options = {"action": "save", NAME: _value(values, NAME), "composed_sheet": sha}

        async def work() -> None:
            if not await rt.first(context) or not await rt.once("view:" + str(view.get("id"))):
                return
            user, team, channel = _who(body, view, context)
            actor = await rt.people.actor(client, team, user["id"], user["name"])
            place = await rt.place(client, team, channel)
            reply = await rt.commands.dispatch(Invocation("sheets", actor, place, options))
            await rt.tell(client, actor.user_id, place, reply)

        rt.tasks.spawn(work(), name="slack-sheet-keep")


def _who(
    body: Payload, view: Payload, context: AsyncBoltContext
) -> tuple[dict[str, str], str, str]:
    """The user (id, name), the workspace, and the channel the form was opened from."""
    user = body.get("user") or {}
    who = {"id": str(user.get("id") or ""), "name": str(user.get("name") or "")}
    channel = str(json.loads(view.get("private_metadata") or "{}").get("c") or "")
    return who, team_of(body, context), channel
