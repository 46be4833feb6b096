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
    Opt(
        "duration",
        K.NUMBER,
        "Length in seconds instead of frames (5 s = 121 frames at 24 fps)",
        minimum=0.1,
        maximum=60,
    ),
    Opt(
        "resolution",
        K.CHOICE,
        "Size: WIDTHxHEIGHT or a named size (default 1536x896)",
        choices=RESOLUTIONS,
        free_text=True,
    ),
    Opt("frames_per_second", K.NUMBER, "Frames per second (default 24)", minimum=1, maximum=60),
    Opt("guidance_scale", K.NUMBER, "Classifier-free guidance (default 1)", minimum=1, maximum=20),
    Opt(
        "ingredient_strength",
        K.NUMBER,
        "How strongly the sheet's identities and props hold (default 1)",
        minimum=0,
        maximum=2,
    ),
    Opt(
        "reference_strength",
        K.NUMBER,
        "How fully the sheet guides (default 1)",
        minimum=0,
        maximum=2,
    ),
    Opt("generate_audio", K.BOOLEAN, "Include sound (default on)"),
    Opt("negative_prompt", K.TEXT, "What to steer away from"),
    Opt("seed", K.INTEGER, "Seed for a repeatable result", minimum=0, maximum=MAX_SEED),
    Opt("enable_prompt_expansion", K.BOOLEAN, "Let the model expand the prompt (default on)"),
    Opt("enable_safety_checker", K.BOOLEAN, "Safety checker (default on)", restricted=True),
    Opt(
        "video_quality",
        K.CHOICE,
        "Quality preset (default high)",
        choices=tuple(q.value for q in VideoQuality),
    ),
    Opt(
        "video_write_mode",
        K.CHOICE,
        "Write mode (default balanced)",
        choices=tuple(m.value for m in VideoWriteMode),
    ),
    Opt("sync_mode", K.BOOLEAN, "Return the video inline (default off)"),
)

GENERATE = CommandSpec(
    "generate",
    "Make a video from a reference sheet and a prompt",
    (SHEET, PROMPT, *REQUEST_OPTIONS),
)
ESTIMATE = CommandSpec("estimate", "Price a video before making it", REQUEST_OPTIONS)
BUDGET = CommandSpec("budget", "What you have spent, have in flight, and have left")
HISTORY = CommandSpec("history", "Your recent videos")
SHOW = CommandSpec("show", "Details of one job", (JOB,))
CANCEL = CommandSpec("cancel", "Cancel a job that has not finished (releases its hold)", (JOB,))

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec for spec in (GENERATE, ESTIMATE, BUDGET, HISTORY, SHOW, CANCEL)
}

# --- admin commands ---------------------------------------------------------------------------
# Kept apart from COMMANDS so that adapters which register COMMANDS keep working as they are.
# Each name is what a person types after the bot's command: an adapter registers them as the
# subcommands of an `admin` group (`name.split(" ", 1)`), or as text commands.
WHO = Opt("who", K.TEXT, "A user or role: a mention or an id")
REASON = Opt("reason", K.TEXT, "Why (kept in the audit log)")
PERIOD_CHOICES = ("day", "week", "month", "none")
ADMIN_CAPS = CommandSpec(
    "admin caps",
    "Show, set or clear budget caps (admins)",
    (
        Opt("action", K.CHOICE, "show (default), set or clear", choices=("show", "set", "clear")),
        Opt(
            "target",
            K.CHOICE,
            "Which cap: default per-user, one user, a role, or the team pool",
            choices=("default", "user", "role", "pool"),
        ),
        WHO,
        Opt("amount", K.TEXT, "Dollars, e.g. 10 or 2.50; none for uncapped"),
        Opt(
            "period",
            K.CHOICE,
            "When it resets (local midnight); default day",
            choices=PERIOD_CHOICES,
        ),
        REASON,
    ),
)
ADMIN_LIMITS = CommandSpec(
    "admin limits",
    "Show or set per-user limits, confirmations, alerts and the timezone (admins)",
    (
        Opt(
            "jobs",
            K.INTEGER,
            "Videos one user may have in flight (0: no limit)",
            minimum=0,
            maximum=100,
        ),
        Opt(
            "per_minute",
            K.INTEGER,
            "Videos one user may start per minute (0: no limit)",
            minimum=0,
            maximum=1000,
        ),
        Opt("confirm_above", K.TEXT, "Ask to confirm prices above these dollars (off: never)"),
        Opt(
            "alert_percent",
            K.INTEGER,
            "Warn once a period at this share of a cap (0: never)",
            minimum=0,
            maximum=100,
        ),
        Opt("timezone", K.TEXT, "Where caps reset at midnight, e.g. Europe/Paris"),
        Opt("approval_above", K.TEXT, "Prices above these dollars need an admin's approval (off)"),
        Opt(
            "approval_hours",
            K.INTEGER,
            "Hours an approval request waits before it expires (default 24)",
            minimum=1,
            maximum=720,
        ),
        Opt("safety_optional", K.BOOLEAN, "Let members turn fal's safety checker off (default no)"),
        REASON,
    ),
)
ADMIN_GRANT = CommandSpec(
    "admin grant",
    "Give (or take back) budget room this period (admins)",
    (
        Opt("who", K.TEXT, "A user (mention or id), or pool for the team pool", required=True),
        Opt("amount", K.TEXT, "Dollars; negative takes room away", required=True),
        Opt("reason", K.TEXT, "Why (kept in the ledger and the audit log)", required=True),
    ),
)
USAGE_PERIOD = Opt(
    "period", K.CHOICE, "This day, week, month, or all time (default month)", choices=PERIOD_CHOICES
)
ADMIN_USAGE = CommandSpec(
    "admin usage", "Spend per user and a chart over time (admins)", (USAGE_PERIOD,)
)
ADMIN_EXPORT = CommandSpec(
    "admin export", "The ledger for a period as CSV (admins)", (USAGE_PERIOD,)
)
ADMIN_AUDIT = CommandSpec("admin audit", "The latest admin changes (admins)")
ADMIN_APPROVALS = CommandSpec("admin approvals", "Approval requests waiting (admins)")
CHANNEL = Opt("channel", K.TEXT, "A channel mention or id (default: this channel)")
ADMIN_CHANNEL = CommandSpec(
    "admin channel",
    "Where videos may be made; the admin channel (admins)",
    (
        Opt(
            "action",
            K.CHOICE,
            "show (default); allow, deny or clear a channel; admin: approvals go there",
            choices=("show", "allow", "deny", "clear", "admin"),
        ),
        Opt("channel", K.TEXT, "A channel mention or id (default: this one; admin none: unset)"),
        REASON,
    ),
)
ADMIN_DEFAULTS = CommandSpec(
    "admin defaults",
    "Preset size, frames, quality and sound for a channel (admins)",
    (
        CHANNEL,
        Opt(
            "resolution",
            K.CHOICE,
            "Size: WIDTHxHEIGHT or a named size",
            choices=RESOLUTIONS,
            free_text=True,
        ),
        Opt("num_frames", K.INTEGER, "Frames", minimum=9, maximum=481),
        Opt(
            "video_quality",
            K.CHOICE,
            "Quality preset",
            choices=tuple(q.value for q in VideoQuality),
        ),
        Opt("generate_audio", K.BOOLEAN, "Include sound"),
        Opt(
            "clear",
            K.CHOICE,
            "Unset one preset, or all",
            choices=("all", "resolution", "num_frames", "video_quality", "generate_audio"),
        ),
        REASON,
    ),
)

ADMIN_COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        ADMIN_CAPS,
        ADMIN_LIMITS,
        ADMIN_GRANT,
        ADMIN_USAGE,
        ADMIN_EXPORT,
        ADMIN_AUDIT,
        ADMIN_APPROVALS,
        ADMIN_CHANNEL,
        ADMIN_DEFAULTS,
    )
}
