"""`/ltx sheet` on Discord: its pictures (image1..image6) as Attachments, and the prompt form
its "Generate..." and "Draft ($X)" buttons open.

The form's custom_id names the composed sheet (`ltx:sheetform:<g|d>:<sha256>`), and the sheet
itself is kept on disk by that hash (`bot.media.composed_sheets`), so a form opened before a
restart, or submitted to another replica, still works: its submit is understood by custom_id
(`LtxClient.on_interaction`), never by an in-memory view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import discord

from adapters.discord.animate import MAX_PROMPT, modal_values
from bot.media.composed_sheets import suggested_name
from bot.model import ButtonAction

FORM_ID = re.compile(r"ltx:sheetform:(?P<kind>[gds]):(?P<sha>[0-9a-f]{64})")
# Each button's form: g(enerate), d(raft), s(ave).
SHEET_BUTTONS = {
    ButtonAction.SHEET_GENERATE: "g",
    ButtonAction.SHEET_DRAFT: "d",
    ButtonAction.SHEET_SAVE: "s",
}
IMAGE_OPTION = re.compile(r"image(?P<n>[1-6])")


def pictures_of(
    values: dict[str, object],
) -> tuple[dict[str, object], list[discord.Attachment]]:
    """The slash values without the pictures, and the pictures in their options' order."""
    rest = {k: v for k, v in values.items() if not IMAGE_OPTION.fullmatch(k)}
    found = [
        (int(match["n"]), value)
        for key, value in values.items()
        if (match := IMAGE_OPTION.fullmatch(key)) and isinstance(value, discord.Attachment)
    ]
    return rest, [value for _, value in sorted(found, key=lambda pair: pair[0])]


async def opened_sheet_form(
    interaction: discord.Interaction, action: ButtonAction, sha: str, data_dir: Path
) -> bool:
    """Answer a composed sheet's button with its prompt form (a modal must be the first
    answer, so nothing is deferred; the Save form's suggested name is read from the sheet's
    first bytes on disk); False for any other button."""
    kind = SHEET_BUTTONS.get(action)
    if kind is None:
        return False
    modal: discord.ui.Modal
    if kind == "s":
        modal = SaveSheetModal(sha, await suggested_name(data_dir, sha))
    else:
        modal = SheetPromptModal(sha, draft=kind == "d")
    await interaction.response.send_modal(modal)
    return True


def sheet_form_command(data: object) -> tuple[str, dict[str, object]] | None:
    """The command and options a submitted sheet form (`interaction.data`) runs: generate
    (or a draft) from the sheet, or `sheets save` of it; None for any other modal."""
    custom_id = data.get("custom_id") if isinstance(data, Mapping) else None
    match = FORM_ID.fullmatch(str(custom_id or ""))
    if match is None:
        return None
    options: dict[str, object] = {k: v for k, v in modal_values(data).items() if v}
    options["composed_sheet"] = match["sha"]
    if match["kind"] == "s":
        return "sheets", {**options, "action": "save"}
    if match["kind"] == "d":
        options["draft"] = True
    return "generate", options


class SheetPromptModal(discord.ui.Modal):
    """The prompt (and the length and seed, optional) for a video or a draft of a sheet."""

    def __init__(self, sha: str, *, draft: bool) -> None:
        title = "Draft from your sheet" if draft else "Generate from your sheet"
        kind = "d" if draft else "g"
        super().__init__(title=title, timeout=None, custom_id=f"ltx:sheetform:{kind}:{sha}")
        fields = (
            (
                "What happens in the video",
                discord.ui.TextInput[SheetPromptModal](
                    style=discord.TextStyle.paragraph, max_length=MAX_PROMPT, custom_id="prompt"
                ),
            ),
            (
                "Length in seconds (optional)",
                discord.ui.TextInput[SheetPromptModal](
                    required=False, max_length=6, placeholder="e.g. 5", custom_id="duration"
                ),
            ),
            (
                "Seed (optional)",
                discord.ui.TextInput[SheetPromptModal](
                    required=False,
                    max_length=10,
                    placeholder="empty: a new one each time",
                    custom_id="seed",
                ),
            ),
        )
        for label, field in fields:
            self.add_item(discord.ui.Label(text=label, component=field))
        self.stop()  # handled by custom_id in any process, as AnimateModal


class SaveSheetModal(discord.ui.Modal):
    """The name to keep a composed sheet under for the server (`sheets save`)."""

    def __init__(self, sha: str, suggested: str | None = None) -> None:
        super().__init__(title="Save the sheet", timeout=None, custom_id=f"ltx:sheetform:s:{sha}")
        name = discord.ui.TextInput[SaveSheetModal](
            max_length=40, placeholder="kitchen-crew", custom_id="name", default=suggested
        )
        self.add_item(discord.ui.Label(text="Name (letters, digits, - or _)", component=name))
        self.stop()
