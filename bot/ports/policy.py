"""`PolicyStore`: what admins set for a scope (caps, rules, channel lists and defaults) and
the audit log of their changes, as storage keeps them. The rules that read them are in
`bot.budget`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from bot.money import Money
from bot.ports.approvals import ApprovalStore

# How long a cap's spending counts before it resets at local midnight ("none": never).
Period = Literal["day", "week", "month", "none"]


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


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """What admins set for a scope, as one read found it: its caps (by kind, then subject) and
    known rules, and, when asked for (else None), its channel list and one channel's presets."""

    caps: tuple[Cap, ...]
    rules: Mapping[Rule, str]
    channels: Mapping[str, ChannelAccess] | None = None
    presets: Mapping[str, str] | None = None  # `bot.budget.policy.DEFAULT_OPTIONS` names


class PolicyStore(Protocol):
    """Storage for caps, rules, the admin audit log, the once-per-period alert marks, channel
    lists and defaults, and (in `approvals`) the approval requests."""

    @property
    def approvals(self) -> ApprovalStore: ...

    async def read(
        self, *, scope: str, channel_list: bool = False, presets_of: str | None = None
    ) -> StoredPolicy:
        """The scope's caps and rules, with its channel list (`channel_list`) and the presets
        of channel `presets_of`, in one snapshot: what a request is decided by, read at once."""
        ...

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
        """The options preset for a channel (`bot.budget.policy.DEFAULT_OPTIONS` names, values
        as typed)."""
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
