"""What admins may set for a scope: caps, per-scope rules, and the audit log of their changes.

A scope is the ledger's team key ("discord:<guild>", "slack:<team>"). Caps are stored per
scope: a default per-user cap, per-user overrides, per-role caps and a team pool, each with an
amount in dollars (or none: explicitly uncapped) and a period that resets at local midnight in
the scope's timezone. `bot.budget.budgets.Budgets` turns them into ledger `Limit`s; storage
implements `PolicyStore`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.budget.approvals import ApprovalStore
from bot.budget.periods import Period
from bot.errors import UserError
from bot.money import Money

PERIODS: tuple[Period, ...] = ("day", "week", "month", "none")


class CapKind(StrEnum):
    DEFAULT = "default"  # every user of the scope, unless an override or a role cap applies
    USER = "user"  # one user: replaces the default and role caps for them
    ROLE = "role"  # members of a role (Discord role, Slack user group): replaces the default
    POOL = "pool"  # the whole scope's spending together


@dataclass(frozen=True, slots=True)
class Cap:
    """One stored cap. `subject` is the user or role id ("" for the default and the pool)."""

    kind: CapKind
    subject: str
    amount: Money | None  # None: explicitly uncapped
    period: Period
    set_by: str | None = None
    set_at: datetime | None = None


class Rule(StrEnum):
    """Per-scope knobs, stored as text; absent means the deployment's default."""

    TIMEZONE = "timezone"  # IANA name; every cap of the scope resets at its local midnight
    MAX_IN_FLIGHT = "jobs"  # videos one user may have in flight at once
    PER_MINUTE = "per_minute"  # videos one user may start per minute
    CONFIRM_ABOVE = "confirm_above"  # dollars: above this, the user confirms the price first
    ALERT_PERCENT = "alert_percent"  # share of a cap that triggers the once-a-period alert
    APPROVAL_ABOVE = "approval_above"  # dollars: above this, only an admin's approval runs it
    APPROVAL_HOURS = "approval_hours"  # how long an approval request waits before it expires
    ADMIN_CHANNEL = "admin_channel"  # where approval requests and pool alerts are posted
    SAFETY_OPTIONAL = "safety_optional"  # "on": members may turn fal's safety checker off


class ChannelAccess(StrEnum):
    """A channel's entry in the scope's list: once any channel is allowed, only allowed ones
    may generate; a denied one never may."""

    ALLOW = "allow"
    DENY = "deny"


# What `admin defaults` may preset per channel (request option names), applied when the user
# did not set them.
DEFAULT_OPTIONS: tuple[str, ...] = ("resolution", "num_frames", "video_quality", "generate_audio")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin change: who, what, why, when."""

    id: int
    scope: str
    actor: str
    action: str  # "caps set", "caps clear", "grant", "limits set"
    detail: str
    reason: str
    created_at: datetime


class PolicyStore(Protocol):
    """Storage for caps, rules, the admin audit log, the once-per-period alert marks, channel
    lists and defaults, and (in `approvals`) the approval requests."""

    approvals: ApprovalStore

    async def caps(self, *, scope: str) -> list[Cap]: ...

    async def set_cap(self, *, scope: str, cap: Cap, actor: str, reason: str, at: datetime) -> None:
        """Insert or replace the cap for (kind, subject), writing the audit entry with it."""
        ...

    async def clear_cap(
        self, *, scope: str, kind: CapKind, subject: str, actor: str, reason: str, at: datetime
    ) -> bool:
        """Remove the cap (audited); False when there was none."""
        ...

    async def rules(self, *, scope: str) -> dict[Rule, str]: ...

    async def set_rule(
        self,
        *,
        scope: str,
        rule: Rule,
        value: str | None,
        actor: str,
        reason: str,
        at: datetime,
        action: str = "limits set",
    ) -> None:
        """Set (or, with None, remove) one rule, writing the audit entry (`action`) with it."""
        ...

    async def record(
        self, *, scope: str, actor: str, action: str, detail: str, reason: str, at: datetime
    ) -> AuditEntry:
        """Append one audit entry (for changes made elsewhere, such as ledger grants)."""
        ...

    async def audit(self, *, scope: str, limit: int = 20) -> list[AuditEntry]:
        """The newest entries first."""
        ...

    async def first_alert(
        self, *, scope: str, cap: str, user_id: str, period_start: datetime, at: datetime
    ) -> bool:
        """Mark the alert for this cap and period as sent; True only for the first caller."""
        ...

    async def channels(self, *, scope: str) -> dict[str, ChannelAccess]:
        """The scope's allowed and denied channels."""
        ...

    async def set_channel(
        self,
        *,
        scope: str,
        channel_id: str,
        access: ChannelAccess | None,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None:
        """Allow or deny a channel, or (None) take it off the list; audited."""
        ...

    async def channel_defaults(self, *, scope: str, channel_id: str) -> dict[str, str]:
        """The options preset for a channel (`DEFAULT_OPTIONS` names, values as typed)."""
        ...

    async def set_channel_default(
        self,
        *,
        scope: str,
        channel_id: str,
        option: str,
        value: str | None,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None:
        """Preset (or, with None, unset) one option for a channel; audited."""
        ...


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
    return period  # type: ignore[return-value]


def parse_timezone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except Exception:
        raise UserError(
            f"{text!r} is not a timezone; use an IANA name such as Europe/Paris."
        ) from None
