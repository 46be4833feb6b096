"""A scope's caps and rules, resolved against the deployment's defaults.

Admins store caps and rules per scope (`bot.budget.policy`); whatever they did not set comes
from the deployment's settings (`CapPolicy`). A stored rule that cannot be read is logged and
ignored, never raised: a bad stored value must not lock everyone out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.budget.approvals import DEFAULT_APPROVAL_TTL
from bot.money import Money
from bot.ports import Cap, Period, Rule

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CapPolicy:
    """The deployment's defaults, used wherever an admin has not set a scope's own."""

    user_cap: Money | None
    period: Period
    tz: ZoneInfo
    max_per_request: Money | None = None
    max_in_flight: int | None = None  # videos one user may have in flight (None: no limit)
    per_minute: int | None = None  # videos one user may start per minute (None: no limit)
    confirm_above: Money | None = None  # above this price the user confirms first
    alert_percent: int | None = 80  # the once-a-period heads-up (None: never)
    approval_above: Money | None = None  # above this price only an admin's approval runs it
    approval_ttl: timedelta = DEFAULT_APPROVAL_TTL


@dataclass(frozen=True, slots=True)
class ScopePolicy:
    """A scope's caps and rules, resolved against the deployment's defaults."""

    caps: tuple[Cap, ...]
    tz: ZoneInfo
    max_in_flight: int | None
    per_minute: int | None
    confirm_above: Money | None
    alert_percent: int | None
    approval_above: Money | None = None
    approval_ttl: timedelta = DEFAULT_APPROVAL_TTL
    admin_channel: str | None = None  # where approval requests and pool alerts go
    safety_optional: bool = False  # may members turn fal's safety checker off?


def resolve_policy(base: CapPolicy, caps: Iterable[Cap], rules: Mapping[Rule, str]) -> ScopePolicy:
    """The scope's stored caps and rules, with the deployment's defaults filled in."""
    return ScopePolicy(
        caps=tuple(caps),
        tz=_rule(rules, Rule.TIMEZONE, ZoneInfo, base.tz) or base.tz,
        max_in_flight=_rule(rules, Rule.MAX_IN_FLIGHT, int, base.max_in_flight),
        per_minute=_rule(rules, Rule.PER_MINUTE, int, base.per_minute),
        confirm_above=_rule(rules, Rule.CONFIRM_ABOVE, Money.usd, base.confirm_above),
        alert_percent=_rule(rules, Rule.ALERT_PERCENT, int, base.alert_percent),
        approval_above=_rule(rules, Rule.APPROVAL_ABOVE, Money.usd, base.approval_above),
        approval_ttl=_rule(rules, Rule.APPROVAL_HOURS, _hours, base.approval_ttl)
        or base.approval_ttl,
        admin_channel=rules.get(Rule.ADMIN_CHANNEL),
        safety_optional=rules.get(Rule.SAFETY_OPTIONAL) == "on",
    )


def _hours(text: str) -> timedelta:
    hours = float(text)
    if not 0 < hours <= 24 * 30:
        raise ValueError(text)
    return timedelta(hours=hours)


def _rule(rules: Mapping[Rule, str], rule: Rule, parse: Callable[[str], T], default: T) -> T | None:
    """A stored rule parsed, the default when unset or unreadable (logged), None when "off"."""
    text = rules.get(rule)
    if text is None:
        return default
    if text == "off":
        return None
    try:
        return parse(text)
    except Exception:
        log.warning("ignoring the unreadable rule %s=%r", rule.value, text)
        return default
