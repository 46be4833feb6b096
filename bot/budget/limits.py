"""Which caps apply to a user in a scope, as the ledger's `Limit`s, and how they are named.

Which caps apply to a user, in a scope:
- a per-user override, if an admin set one for them; otherwise
- the cap of each capped role they have (all must fit); otherwise
- the scope's default per-user cap (stored, else the settings' default);
- and the team pool, if one is set, for everyone's spending together.
A cap stored with no amount is "uncapped": it still takes the place of the ones below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.budget.periods import window
from bot.budget.scope_policy import CapPolicy, ScopePolicy
from bot.model import scope_word_of
from bot.money import Money
from bot.ports import Cap, CapKind, Limit, Period, Usage

PERIOD_NAMES = {"day": "daily", "week": "weekly", "month": "monthly", "none": "total"}
RATE_WINDOW = timedelta(minutes=1)  # what "per minute" counts back over


@dataclass(frozen=True, slots=True)
class CapStatus:
    limit: Limit
    usage: Usage

    @property
    def remaining(self) -> Money:
        return max(self.limit.limit - self.usage.used, Money.zero())


@dataclass(frozen=True, slots=True)
class Alert:
    """A cap crossed its alert share for the first time this period."""

    status: CapStatus
    percent: int
    text: str

    @property
    def is_pool(self) -> bool:
        return self.status.limit.user_id is None


def cap_name(kind: CapKind, subject: str, period: Period, scope_word: str = "team") -> str:
    """How a cap is named to people: "your daily cap", "the server's weekly pool" (the scope
    in the platform's word: server, workspace, team)."""
    every = PERIOD_NAMES[period]
    return {
        CapKind.DEFAULT: f"your {every} cap",
        CapKind.USER: f"your personal {every} cap",
        CapKind.ROLE: f"the {every} cap for role {subject}",
        CapKind.POOL: f"the {scope_word}'s {every} pool",
    }[kind]


def applicable(
    policy: ScopePolicy,
    base: CapPolicy,
    scope: str,
    user_id: str,
    roles: Sequence[str],
    now: datetime,
) -> list[Limit]:
    """Every limit a hold by this user must fit at `now` (see the module docstring)."""
    mine = {role.lower() for role in roles}
    by_kind = {kind: [c for c in policy.caps if c.kind is kind] for kind in CapKind}
    personal = [c for c in by_kind[CapKind.USER] if c.subject == user_id]
    if not personal:
        personal = [c for c in by_kind[CapKind.ROLE] if c.subject.lower() in mine]
    if not personal:
        personal = by_kind[CapKind.DEFAULT] or [
            Cap(CapKind.DEFAULT, "", base.user_cap, base.period)
        ]
    limits = [limit_of(cap, scope, user_id, policy.tz, now) for cap in personal]
    limits += pool_limits(policy, scope, now)
    return [limit for limit in limits if limit is not None]


def pool_limits(policy: ScopePolicy, scope: str, now: datetime) -> list[Limit]:
    """The team pool's limits alone (what an admin-approved hold must still fit)."""
    pools = [c for c in policy.caps if c.kind is CapKind.POOL]
    return [limit for c in pools if (limit := limit_of(c, scope, None, policy.tz, now))]


def limit_of(
    cap: Cap, scope: str, user_id: str | None, tz: ZoneInfo, now: datetime
) -> Limit | None:
    """The cap as a ledger limit for its current period; None when it is uncapped."""
    if cap.amount is None:
        return None
    since, resets = window(cap.period, now, tz)
    name = cap_name(cap.kind, cap.subject, cap.period, scope_word_of(scope))
    return Limit(name, scope, user_id, cap.amount, since, resets, tz)
