"""The one list of commands and options that every adapter registers from.

Discord builds typed slash options from it, Slack builds its modal, the console builds argparse.
Ranges and choices come from the request model, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.request import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    MAX_SEED,
    NAMED_SIZES,
    VideoQuality,
    VideoWriteMode,
)


class OptionKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    ATTACHMENT = "attachment"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    name: str
    kind: OptionKind
    description: str  # at most 100 characters (Discord's limit)
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    default: object = None
    # Only shown where an admin allows it (the safety checker may be turned off per server).
    restricted: bool = False
    # Free text accepted too (resolution: a named size or WIDTHxHEIGHT).
    free_text: bool = False


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()


Opt, K = OptionSpec, OptionKind
SHEET = Opt("sheet", K.ATTACHMENT, "Reference sheet: PNG, JPEG or WebP", required=True)
PROMPT = Opt("prompt", K.TEXT, "What happens in the video", required=True)
JOB = Opt("job", K.TEXT, "Job id (from /ltx history)", required=True)
RESOLUTIONS = (f"{DEFAULT_WIDTH}x{DEFAULT_HEIGHT}", "1280x720", "768x448", "auto", *NAMED_SIZES)

# Every input field of the endpoint (prompt and sheet aside), with the endpoint's ranges.
REQUEST_OPTIONS: tuple[OptionSpec, ...] = (
    Opt("num_frames", K.INTEGER, "Frames to generate (default 121)", minimum=9, maximum=481),
    Opt("duration", K.NUMBER, "Length in seconds instead of frames (5 s = 121 frames at 24 fps)",
      minimum=0.1, maximum=60),
    Opt("resolution", K.CHOICE, "Size: WIDTHxHEIGHT or a named size (default 1536x896)",
      choices=RESOLUTIONS, free_text=True),
    Opt("frames_per_second", K.NUMBER, "Frames per second (default 24)", minimum=1, maximum=60),
    Opt("guidance_scale", K.NUMBER, "Classifier-free guidance (default 1)", minimum=1, maximum=20),
    Opt("ingredient_strength", K.NUMBER, "How strongly the sheet's identities and props hold "
      "(default 1)", minimum=0, maximum=2),
    Opt("reference_strength", K.NUMBER, "How fully the sheet guides (default 1)",
      minimum=0, maximum=2),
    Opt("generate_audio", K.BOOLEAN, "Include sound (default on)"),
    Opt("negative_prompt", K.TEXT, "What to steer away from"),
    Opt("seed", K.INTEGER, "Seed for a repeatable result", minimum=0, maximum=MAX_SEED),
    Opt("enable_prompt_expansion", K.BOOLEAN, "Let the model expand the prompt (default on)"),
    Opt("enable_safety_checker", K.BOOLEAN, "Safety checker (default on)", restricted=True),
    Opt("video_quality", K.CHOICE, "Quality preset (default high)",
      choices=tuple(q.value for q in VideoQuality)),
    Opt("video_write_mode", K.CHOICE, "Write mode (default balanced)",
      choices=tuple(m.value for m in VideoWriteMode)),
    Opt("sync_mode", K.BOOLEAN, "Return the video inline (default off)"),
)  # fmt: skip

GENERATE = CommandSpec("generate", "Make a video from a reference sheet and a prompt",
                       (SHEET, PROMPT, *REQUEST_OPTIONS))  # fmt: skip
ESTIMATE = CommandSpec("estimate", "Price a video before making it", REQUEST_OPTIONS)
BUDGET = CommandSpec("budget", "What you have spent, have in flight, and have left")
HISTORY = CommandSpec("history", "Your recent videos")
SHOW = CommandSpec("show", "Details of one job", (JOB,))
CANCEL = CommandSpec("cancel", "Cancel a job that has not finished (releases its hold)", (JOB,))

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec for spec in (GENERATE, ESTIMATE, BUDGET, HISTORY, SHOW, CANCEL)
}
