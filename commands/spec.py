"""The one list of commands and options that every adapter registers from.

Discord builds typed slash options from it, Slack builds its modal, the console builds argparse.
The request options are read off `bot.request.GenerationRequest` (`commands.options`): kinds,
ranges, choices, defaults and descriptions are written there once, so they cannot drift apart.
"""

from __future__ import annotations

from bot.request import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    MAX_FPS,
    MAX_FRAMES,
    MIN_FPS,
    MIN_FRAMES,
    GenerationRequest,
)
from commands.creative import MAX_TAKES
from commands.options import CommandSpec, OptionKind, OptionSpec, in_words, request_option

Opt, K = OptionSpec, OptionKind
SHEET = Opt(
    "sheet",
    K.ATTACHMENT,
    "Reference sheet: PNG, JPEG or WebP (or name a saved one)",
    title="Reference sheet",
)
SHEET_NAME = Opt(
    "sheet_name",
    K.TEXT,
    "A sheet saved for the team (/ltx sheets) instead of attaching one",
    max_length=40,
    title="Saved sheet",
)
PROMPT = request_option("prompt")
JOB = Opt("job", K.TEXT, "Job id (from /ltx history)", required=True)

# Not a field: parse_request turns seconds into num_frames at the request's frame rate, so the
# range is every length some frame rate can make: 2 decimals, rounded down, as frames are rounded.
DURATION = Opt(
    "duration",
    K.NUMBER,
    f"Length in seconds instead of frames ({in_words((DEFAULT_FRAMES - 1) / DEFAULT_FPS)} s = "
    f"{DEFAULT_FRAMES} frames at {DEFAULT_FPS} fps)",
    minimum=int((MIN_FRAMES - 1) / MAX_FPS * 100) / 100,
    maximum=(MAX_FRAMES - 1) / MIN_FPS,
    title="Duration (seconds)",
)


def _request_options() -> tuple[OptionSpec, ...]:
    """Every input field of the endpoint (prompt and sheet aside), in the model's order, with
    duration offered next to num_frames."""
    options: list[OptionSpec] = []
    for name in GenerationRequest.model_fields:
        if name != PROMPT.name:
            options.append(request_option(name))
        if name == "num_frames":
            options.append(DURATION)
    return tuple(options)


REQUEST_OPTIONS = _request_options()
# Beside the request's fields (commands.creative takes them out before it is parsed).
DRAFT = Opt(
    "draft",
    K.BOOLEAN,
    "A cheap draft at 768x448 first; its Final button makes it at full size, same seed",
    title="Draft",
)
RAW_PROMPT = Opt(
    "raw_prompt",
    K.BOOLEAN,
    'Send the prompt as written, without the "Reference sheet:" structure',
    title="Raw prompt",
)
TAKES = Opt(
    "takes",
    K.INTEGER,
    "Videos of this request, each with its own seed, priced and held together (default 1)",
    minimum=1,
    maximum=MAX_TAKES,
    default=1,
    title="Takes",
)

GENERATE = CommandSpec(
    "generate",
    "Make a video from a reference sheet and a prompt",
    (SHEET, SHEET_NAME, PROMPT, *REQUEST_OPTIONS, DRAFT, TAKES, RAW_PROMPT),
)
ESTIMATE = CommandSpec(
    "estimate",
    "Price a video before making it",
    (
        *REQUEST_OPTIONS,
        DRAFT,
        TAKES,
        Opt("final", K.TEXT, "A draft's job id: the price of its final (at resolution, if given)"),
    ),
)
BUDGET = CommandSpec("budget", "What you have spent, have in flight, and have left")
HISTORY = CommandSpec("history", "Your recent videos")
SHOW = CommandSpec("show", "Details of one job", (JOB,))
CANCEL = CommandSpec(
    "cancel", "Cancel an unfinished job (the hold is released once it stops)", (JOB,)
)
FINAL = CommandSpec(
    "final",
    "Make a draft at full size: its request and seed, priced and held like any video",
    (
        Opt("job", K.TEXT, "The draft's job id", required=True),
        Opt(
            "take",
            K.INTEGER,
            "Of a draft's takes, this one (the job id may be any take's)",
            minimum=1,
            maximum=MAX_TAKES,
        ),
        Opt(
            "resolution",
            K.TEXT,
            "The final's size: WIDTHxHEIGHT or a named size (default 1536x896)",
        ),
    ),
)

SHEETS = CommandSpec(
    "sheets",
    "The team's saved reference sheets: list, save or delete one",
    (
        Opt(
            "action", K.CHOICE, "list (default), save or delete", choices=("list", "save", "delete")
        ),
        Opt("name", K.TEXT, "The sheet's name: 1 to 40 letters, digits, - or _", max_length=40),
        Opt("sheet", K.ATTACHMENT, "The sheet to save: PNG, JPEG or WebP", title="Reference sheet"),
    ),
)

KIND_CHOICES = ("character", "prop", "location")


def _picture_options() -> tuple[OptionSpec, ...]:
    """image1..image6 with a label and a kind each, side by side (Discord shows them so)."""
    options: list[OptionSpec] = []
    for n in range(1, 7):
        options += [
            Opt(f"image{n}", K.ATTACHMENT, f"Picture {n}: PNG, JPEG or WebP", required=n == 1),
            Opt(f"label{n}", K.TEXT, f"What picture {n} shows (\"a chef in a white jacket\")",
                max_length=200),
            Opt(f"kind{n}", K.CHOICE, f"Picture {n}: character (biggest panel), location or "
                "prop (smallest)", choices=KIND_CHOICES),
        ]  # fmt: skip
    return tuple(options)


# The sheet's size, as `ltxbot sheet --resolution | --aspect` takes it (commands.sheet.sheet_size).
SHEET_SIZES = (
    Opt("resolution", K.CHOICE, "The sheet's size: WIDTHxHEIGHT or a named size (default: the "
        "channel's preset, else 1536x896)", choices=request_option("resolution").choices,
        free_text=True, title="Sheet size"),
    Opt("aspect", K.TEXT, "Or an aspect ratio such as 16:9 or 9:16, at the size auto renders "
        "for it", max_length=20, title="Aspect ratio"),
)  # fmt: skip

# Composed in a chat; the terminal has `ltxbot sheet` (adapters.console.cli_sheet) instead.
SHEET_COMPOSE = CommandSpec(
    "sheet",
    "Compose a reference sheet from 1 to 6 pictures, then generate or draft from it",
    (*_picture_options(), *SHEET_SIZES),
)

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (GENERATE, ESTIMATE, BUDGET, HISTORY, SHOW, CANCEL, FINAL, SHEETS, SHEET_COMPOSE)
}
