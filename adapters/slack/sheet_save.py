"""`/ltx sheets save NAME` on Slack: a slash command carries no file, so it opens a small form
with a file input and the name; its submission runs the same `sheets` command as Discord and
the terminal, and the answer comes ephemerally in the channel it was asked in."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.form_fields import text
from adapters.slack.modal import FILETYPES, SheetRef
from adapters.slack.runtime import Runtime, bot_token, team_of
from bot.model import Invocation, JSONObject, Payload
from commands.sheets import NAME, NAME_RULE

CALLBACK_ID = "ltx_sheet_save"
FILE_BLOCK, NAME_BLOCK = "sheet", "name"


def save_sheet_modal(*, channel_id: str, name: str = "") -> JSONObject:
    """The form: the sheet (a file) and its name, the channel kept for the answer."""
    name_input: JSONObject = {"type": "plain_text_input", "action_id": "name", "max_length": 40}
    if name:
        name_input["initial_value"] = name[:40]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": text("Save a sheet", 24),
        "submit": text("Save", 24),
        "close": text("Cancel", 24),
        "private_metadata": json.dumps({"c": channel_id}),
        "blocks": [
            {
                "type": "input",
                "block_id": FILE_BLOCK,
                "label": text("Reference sheet"),
                "hint": text("PNG, JPEG or WebP; a PNG from `ltxbot sheet` keeps its sentence"),
                "element": {
                    "type": "file_input",
                    "action_id": "sheet",
                    "filetypes": list(FILETYPES),
                    "max_files": 1,
                },
            },
            {
                "type": "input",
                "block_id": NAME_BLOCK,
                "label": text("Name"),
                "hint": text(f"{NAME_RULE}; everyone in the workspace can use it"),
                "element": name_input,
            },
        ],
    }


def register_sheet_save(app: AsyncApp, rt: Runtime) -> None:
    @app.view(CALLBACK_ID)
    async def on_save(
        ack: AsyncAck,
        body: Payload,
        view: Payload,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        values: Payload = (view.get("state") or {}).get("values") or {}
        files = (values.get(FILE_BLOCK, {}).get("sheet") or {}).get("files") or []
        name = ((values.get(NAME_BLOCK, {}).get("name") or {}).get("value") or "").strip()
        errors = {}
        if not files:
            errors[FILE_BLOCK] = "Attach the sheet to save (PNG, JPEG or WebP)."
        if not NAME.fullmatch(name):
            errors[NAME_BLOCK] = f"A sheet's name is {NAME_RULE}."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user = body.get("user") or {}
        team, user_id = team_of(body, context), str(user.get("id") or "")
        channel = str(json.loads(view.get("private_metadata") or "{}").get("c") or "")

        async def work() -> None:
            if not await rt.first(context) or not await rt.once("view:" + str(view.get("id"))):
                return
            actor = await rt.people.actor(client, team, user_id, str(user.get("name") or ""))
            place = await rt.place(client, team, channel)
            attachment = rt.attachment(SheetRef.from_file(files[0]), bot_token(context, client))
            options: dict[str, object] = {"action": "save", "name": name}
            invocation = Invocation("sheets", actor, place, options, attachment)
            await rt.tell(client, user_id, place, await rt.commands.dispatch(invocation))

        rt.tasks.spawn(work(), name="slack-sheet-save")
