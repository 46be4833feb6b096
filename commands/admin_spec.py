"""The admin commands every adapter registers: caps, limits, grants, reports, channels,
reconcile, purge, forget.

Kept apart from `commands.spec.COMMANDS` so that adapters which register COMMANDS keep working
as they are. Each name is what a person types after the bot's command: an adapter registers
them as the subcommands of its admin command (`name.split(" ", 1)`), or as text commands.
"""

from __future__ import annotations

from bot.budget.policy import DEFAULT_OPTIONS
from commands.options import CommandSpec, OptionKind, OptionSpec, request_option

Opt, K = OptionSpec, OptionKind
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
    "admin usage",
    "Spend per user and a chart over time (admins)",
    (USAGE_PERIOD,),
    makes_file=True,
)
ADMIN_EXPORT = CommandSpec(
    "admin export", "The ledger for a period as CSV (admins)", (USAGE_PERIOD,), makes_file=True
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
# What a channel may preset, offered as the request offers it (no default: unset is unchanged).
_PRESET_TEXT = {"num_frames": "Frames"}
PRESETS = tuple(
    request_option(name, description=_PRESET_TEXT.get(name), with_default=False)
    for name in DEFAULT_OPTIONS
)
ADMIN_DEFAULTS = CommandSpec(
    "admin defaults",
    "Preset size, frames, quality and sound for a channel (admins)",
    (
        CHANNEL,
        *PRESETS,
        Opt(
            "clear",
            K.CHOICE,
            "Unset one preset, or all",
            choices=("all", *(preset.name for preset in PRESETS)),
        ),
        REASON,
    ),
)

DAY = "a UTC day, YYYY-MM-DD"
ADMIN_RECONCILE = CommandSpec(
    "admin reconcile",
    "The ledger beside fal's own bill: matched, missing, mismatched (admins)",
    (
        Opt("since", K.TEXT, f"From this day, {DAY} (default: 6 days before until)"),
        Opt("until", K.TEXT, f"To this day, {DAY}, included (default: today)"),
        Opt("json", K.BOOLEAN, "Answer with one JSON object (exact decimal strings)"),
    ),
)

ADMIN_PURGE = CommandSpec(
    "admin purge",
    "Remove now the sheets and videos of jobs that ended days ago; records stay (admins)",
    (
        Opt(
            "older_than",
            K.INTEGER,
            "Days since the job ended (default: LTXBOT_RETENTION_DAYS)",
            minimum=0,
            maximum=3650,
        ),
        Opt("json", K.BOOLEAN, "Answer with one JSON object"),
    ),
)

ADMIN_FORGET = CommandSpec(
    "admin forget",
    "Remove a user's sheets, videos and prompts; amounts stay, under a pseudonym (admins)",
    (
        Opt("user", K.TEXT, "The user to forget: a mention or an id", required=True),
        Opt("yes", K.BOOLEAN, "Do it (without: only say what would be removed)"),
        Opt("json", K.BOOLEAN, "Answer with one JSON object"),
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
        ADMIN_RECONCILE,
        ADMIN_PURGE,
        ADMIN_FORGET,
    )
}
