"""`sheet` in a chat (`/ltx sheet` on Discord and Slack): compose the attached pictures, keep
the sheet for a day, and answer the requester alone with it and two buttons, "Generate..." and
"Draft ($X)". Each button opens a prompt form in the adapter; its submit runs generate with
the option `composed_sheet=<sha256>` (`with_composed`), so the composed sheet and its
"Reference sheet: ..." sentence are used exactly as `ltxbot generate --sheet ... --label ...`
uses them.

The sheet's size is the user's `resolution` or `aspect` (as `ltxbot sheet --resolution |
--aspect` takes them), else the channel's preset resolution, else the model's default size;
a video from it then renders at the sheet's own size (its shape), unless the user asks
another or it is a draft. People see it named by its labels (`sheet_file_name`).

The pictures, labels and kinds are checked by `commands.sheet.compose` (each refusal names
the picture); nothing is composed, kept or held when one is refused.
"""

from __future__ import annotations

from dataclasses import replace

from bot.errors import InvalidRequest, InvalidSheet
from bot.media.composed_sheets import (
    HEAD_BYTES,
    composed_attachment,
    keep_composed,
    png_size,
    sheet_file_name,
)
from bot.media.png_text import with_prompt_prefix
from bot.model import Button, ButtonAction, Invocation, Reply
from bot.pricing import quote
from bot.request import DEFAULT_FRAMES, DRAFT_HEIGHT, DRAFT_WIDTH, ImageSize
from commands.context import Services
from commands.creative import split_choices
from commands.sheet import MAX_IMAGES, SheetAsk, compose, sheet_size

COMPOSED = "composed_sheet"  # generate's internal option: a composed sheet's id
EXPIRED = (
    "That composed sheet is no longer kept (composed sheets last a day). Run `{command}` "
    "again with the pictures."
)
SLOTS = range(1, MAX_IMAGES + 1)


async def sheet(invocation: Invocation, services: Services) -> Reply:
    """Compose `invocation.attachments` (labels and kinds from `label1`... / `kind1`... or
    one per line in `labels` / `kinds`) and reply with the sheet and its buttons."""
    pictures = invocation.attachments or (
        (invocation.attachment,) if invocation.attachment is not None else ()
    )
    options, names = invocation.options, [picture.file_name for picture in pictures]
    ask = SheetAsk(
        attachments=pictures,
        size=await _size(invocation, services),
        labels=_per_picture("label", options, names),
        kinds=_per_picture("kind", options, names),
    )
    composed = await compose(ask, max_bytes=services.settings.max_sheet_bytes)
    png = with_prompt_prefix(composed.png, composed.prompt_prefix)
    sha, path = await keep_composed(services.settings.data_dir, png, services.clock())
    per_mp = services.settings.price_per_megapixel
    full = quote(composed.width, composed.height, DEFAULT_FRAMES, per_mp).cost
    draft = quote(DRAFT_WIDTH, DRAFT_HEIGHT, DEFAULT_FRAMES, per_mp).cost
    text = (
        f"Your sheet of {len(pictures)} picture{'s' if len(pictures) != 1 else ''} "
        f"({composed.width}x{composed.height}), kept for a day.\n"
        f"{composed.prompt_prefix}\n"
        f"**Generate...** asks for the prompt and makes the video ({full} at "
        f"{composed.width}x{composed.height}, {DEFAULT_FRAMES} frames); **Draft** makes a "
        f"{DRAFT_WIDTH}x{DRAFT_HEIGHT} draft first ({draft}), with a Final button; **Save...** "
        "keeps it for everyone here under a name."
    )
    buttons = (
        Button(ButtonAction.SHEET_GENERATE, sha, "Generate..."),
        Button(ButtonAction.SHEET_DRAFT, sha, f"Draft ({draft})"),
        Button(ButtonAction.SHEET_SAVE, sha, "Save..."),
    )
    name = sheet_file_name(composed.prompt_prefix)
    data: dict[str, object] = {
        "sheet_id": sha,
        "file_name": name,
        "width": composed.width,
        "height": composed.height,
        "panels": [panel.as_json() for panel in composed.panels],
        "prompt_prefix": composed.prompt_prefix,
    }
    return Reply(text=text, buttons=buttons, file=path, file_name=name, data=data)


async def _size(invocation: Invocation, services: Services) -> ImageSize:
    """The user's resolution or aspect ratio, else the channel's preset resolution."""
    resolution, aspect = (_given(invocation.options.get(k)) for k in ("resolution", "aspect"))
    if resolution is None and aspect is None:
        context = await services.budgets.admission_context(
            invocation.actor.scope_key, invocation.place.channel_id, check=False
        )
        resolution = context.defaults.get("resolution")
    return sheet_size(resolution, aspect)


def _given(value: object) -> str | None:
    return None if value is None or not str(value).strip() else str(value).strip()


async def with_composed(invocation: Invocation, services: Services) -> Invocation:
    """The invocation with the composed sheet its `composed_sheet` option names as its sheet
    (generate and `sheets save` read it as any attached sheet); refused once it is gone."""
    sha = invocation.options.get(COMPOSED)
    if sha is None:
        return invocation
    if invocation.attachment is not None or invocation.options.get("sheet_name"):
        raise InvalidRequest(["give one sheet: a composed one, an attached one or a saved one"])
    found = await composed_attachment(services.settings.data_dir, str(sha), services.clock())
    if found is None:
        raise InvalidSheet(EXPIRED.format(command=invocation.actor.platform.command("sheet")))
    options = {k: v for k, v in invocation.options.items() if k != COMPOSED}
    size = png_size(await found.read(HEAD_BYTES))
    asked = _given(options.get("resolution")) is not None or split_choices(options)[1].draft
    if invocation.command == "generate" and size is not None and not asked:
        options["resolution"] = f"{size[0]}x{size[1]}"  # the video takes the sheet's shape
    return replace(invocation, options=options, attachment=found)


def _per_picture(what: str, options: dict[str, object], names: list[str]) -> list[str]:
    """One `what` per picture, in the pictures' order: `labels` (one a line, or commas for
    kinds), or `label1`, `label2`...; none at all is fine. A numbered one missing between
    others, or one beyond the pictures, is refused naming the slot."""
    joined = options.get(f"{what}s")
    if joined is not None and str(joined).strip():
        text = str(joined)
        if what == "kind" and "\n" not in text.strip():
            text = text.replace(",", "\n")
        return [line.strip() for line in text.strip().splitlines()]
    count = len(names)
    given = {n: str(options[f"{what}{n}"]) for n in SLOTS if options.get(f"{what}{n}") is not None}
    if not given:
        return []
    beyond = [n for n in given if n > count]
    if beyond:
        n = beyond[0]
        raise InvalidRequest(
            [f"{what}{n} ({given[n]!r}) has no picture: attach image{n}, or leave {what}{n} out."]
        )
    missing = [n for n in range(1, count + 1) if n not in given]
    if missing:
        n = missing[0]
        raise InvalidRequest(
            [
                f"Picture {n} ({names[n - 1]}) has no {what}: give one {what} per picture, "
                "or none at all."
            ]
        )
    return [given[n] for n in range(1, count + 1)]
