"""Reading what admins type for a scope's policy: subjects, channels, dollars, periods, zones.

A scope is the ledger's team key ("discord:<guild>", "slack:<team>"). Caps are stored per
scope: a default per-user cap, per-user overrides, per-role caps and a team pool, each with an
amount in dollars (or none: explicitly uncapped) and a period that resets at local midnight in
the scope's timezone. The records and `PolicyStore` (storage implements it) are
`bot.ports.policy`; `bot.budget.budgets.Budgets` turns them into ledger `Limit`s.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.money import Money
from bot.ports.policy import Period

PERIODS: tuple[Period, ...] = ("day", "week", "month", "none")

# What `admin defaults` may preset per channel (request option names), applied when the user
# did not set them.
DEFAULT_OPTIONS: tuple[str, ...] = ("resolution", "num_frames", "video_quality", "generate_audio")


# --- parsing what admins type -----------------------------------------------------------------

# <@123> <@!123> (Discord user), <@&123> (Discord role), <@U123|name> (Slack user),
# <!subteam^S123|@group> (Slack user group).
_MENTION = re.compile(r"^<(?:@[!&]?|!subteam\^)([A-Za-z0-9_.-]+)(?:\|[^>]*)?>$")


def parse_subject(text: str) -> str:
    """A user or role id from a mention, an id or a name ("@interns" -> "interns")."""
    text = text.strip()
    match = _MENTION.match(text)
    if match:
        return match.group(1)
    subject = text.removeprefix("@").strip()
    if not subject or len(subject) > 200:
        raise UserError("Name a user or role: a mention, an id or a name.")
    return subject


# <#123> (Discord), <#C123> or <#C123|general> (Slack), or a bare id / #name.
_CHANNEL = re.compile(r"^<#([A-Za-z0-9_.-]+)(?:\|[^>]*)?>$")


def parse_channel(text: str) -> str:
    """A channel id from a mention or an id ("#C123" -> "C123")."""
    text = text.strip()
    match = _CHANNEL.match(text)
    if match:
        return match.group(1)
    channel = text.removeprefix("#").strip()
    if not channel or len(channel) > 200 or not re.fullmatch(r"[A-Za-z0-9_.-]+", channel):
        raise UserError(f"Name a channel: a channel mention or its id (got {text!r}).")
    return channel


def parse_dollars(text: str, *, what: str = "amount") -> Money:
    """ "5", "$5", "2.50" -> Money; a friendly error otherwise. Negative amounts allowed."""
    cleaned = text.strip().replace("$", "").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise UserError(f"The {what} must be dollars, such as 5 or 2.50 (got {text!r}).") from None
    if not value.is_finite() or abs(value) > Decimal(1_000_000):
        raise UserError(f"The {what} must be a plain number of dollars below 1,000,000.")
    return Money.usd(value)


def parse_period(text: str | None, default: Period = "day") -> Period:
    if text is None or not str(text).strip():
        return default
    aliases = {"daily": "day", "weekly": "week", "monthly": "month", "total": "none"}
    period = aliases.get(str(text).strip().lower(), str(text).strip().lower())
    if period not in PERIODS:
        raise UserError(f"The period must be one of {', '.join(PERIODS)} (got {text!r}).")
    return period


def parse_timezone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except Exception:
        raise UserError(
            f"{text!r} is not a timezone; use an IANA name such as Europe/Paris."
        ) from None
