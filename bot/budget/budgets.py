"""Which caps apply to a request, admission against them, and what is left.

The ledger (storage) makes admission atomic: every cap that applies, and the user's in-flight
and per-minute counts, are checked and the hold written in one transaction. This module only
decides *which* limits apply (from the caps admins stored for the scope, falling back to the
deployment's settings) and turns outcomes into sentences.

Which caps apply to a user, in a scope:
- a per-user override, if an admin set one for them; otherwise
- the cap of each capped role they have (all must fit); otherwise
- the scope's default per-user cap (stored, else the settings' default);
- and the team pool, if one is set, for everyone's spending together.
A cap stored with no amount is "uncapped": it still takes the place of the ones below it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.budget.approvals import DEFAULT_APPROVAL_TTL
from bot.budget.periods import describe_reset, window
from bot.errors import BudgetExceeded, CapReached, LimitReached
from bot.money import Money
from bot.ports import (
    Cap,
    CapKind,
    Clock,
    HoldOutcome,
    Ledger,
    Limit,
    Period,
    PolicyStore,
    Rule,
    Throttle,
    Throttled,
    Usage,
)

log = logging.getLogger(__name__)
RATE_WINDOW = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PERIOD_NAMES = {"day": "daily", "week": "weekly", "month": "monthly", "none": "total"}


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


def cap_name(kind: CapKind, subject: str, period: Period) -> str:
    """How a cap is named to people: "your daily cap", "the team's weekly pool"."""
    every = PERIOD_NAMES[period]
    return {
        CapKind.DEFAULT: f"your {every} cap",
        CapKind.USER: f"your personal {every} cap",
        CapKind.ROLE: f"the {every} cap for role {subject}",
        CapKind.POOL: f"the team's {every} pool",
    }[kind]


class Budgets:
    """Admission and balances for one deployment; `store` holds what admins set per scope."""

    def __init__(
        self, ledger: Ledger, policy: CapPolicy, clock: Clock, store: PolicyStore | None = None
    ):
        self.ledger = ledger
        self.policy = policy
        self.clock = clock
        self.store = store
        # The roles each user last asked with, for callers that know only the user (the runner's
        # "budget left" after a video): per process, so after a restart it starts empty.
        self._roles: dict[tuple[str, str], tuple[str, ...]] = {}

    def _roles_of(self, scope: str, user_id: str, roles: Sequence[str] | None) -> Sequence[str]:
        if roles is None:
            return self._roles.get((scope, user_id), ())
        self._roles[(scope, user_id)] = tuple(roles)
        return roles

    async def scope_policy(self, scope: str) -> ScopePolicy:
        """The scope's stored caps and rules, with the deployment's defaults filled in."""
        caps: list[Cap] = []
        rules: dict[Rule, str] = {}
        if self.store is not None:
            # Asked together, so that a store sharing reads among concurrent holds (storage)
            # answers both with one read.
            caps, rules = await asyncio.gather(
                self.store.caps(scope=scope), self.store.rules(scope=scope)
            )
        base = self.policy
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

    def applicable(
        self, policy: ScopePolicy, scope: str, user_id: str, roles: Sequence[str] = ()
    ) -> list[Limit]:
        """Every limit a hold by this user must fit, now (see the module docstring)."""
        mine = {role.lower() for role in roles}
        by_kind = {kind: [c for c in policy.caps if c.kind is kind] for kind in CapKind}
        personal = [c for c in by_kind[CapKind.USER] if c.subject == user_id]
        if not personal:
            personal = [c for c in by_kind[CapKind.ROLE] if c.subject.lower() in mine]
        if not personal:
            personal = by_kind[CapKind.DEFAULT] or [
                Cap(CapKind.DEFAULT, "", self.policy.user_cap, self.policy.period)
            ]
        limits = [self._limit(cap, scope, user_id, policy.tz) for cap in personal]
        limits += [self._limit(cap, scope, None, policy.tz) for cap in by_kind[CapKind.POOL]]
        return [limit for limit in limits if limit is not None]

    def _limit(self, cap: Cap, scope: str, user_id: str | None, tz: ZoneInfo) -> Limit | None:
        if cap.amount is None:
            return None
        since, resets = window(cap.period, self.clock(), tz)
        name = cap_name(cap.kind, cap.subject, cap.period)
        return Limit(name, scope, user_id, cap.amount, since, resets, tz)

    async def limits_for(
        self,
        scope: str,
        user_id: str,
        roles: Sequence[str] | None = None,
        *,
        policy: ScopePolicy | None = None,
    ) -> list[Limit]:
        """Every cap that applies to this user in this scope, now (`roles=None`: the roles
        they last asked with in this process; `policy`: the scope's, if the caller has just
        read it, else it is read)."""
        roles = self._roles_of(scope, user_id, roles)
        if policy is None:
            policy = await self.scope_policy(scope)
        return self.applicable(policy, scope, user_id, roles)

    def check_request_size(self, cost: Money) -> None:
        """Refuse a single request above the per-request maximum before anything is held."""
        ceiling = self.policy.max_per_request
        if ceiling is not None and cost > ceiling:
            raise BudgetExceeded(
                f"This request costs {cost} ({cost.exact_str()} USD), above the {ceiling} "
                "limit for one video. Try fewer frames or a smaller resolution."
            )

    async def admit(
        self,
        *,
        job_id: str,
        scope: str,
        user_id: str,
        cost: Money,
        roles: Sequence[str] | None = None,
        policy: ScopePolicy | None = None,
    ) -> HoldOutcome:
        """Hold `cost` for the job, or raise BudgetExceeded (LimitReached for the counts)
        naming what refused it, what is left and when it resets (`policy`: the scope's, if
        the command has just read it)."""
        self.check_request_size(cost)
        if policy is None:
            policy = await self.scope_policy(scope)
        limits = self.applicable(policy, scope, user_id, self._roles_of(scope, user_id, roles))
        now = self.clock()
        throttle = None
        if policy.max_in_flight is not None or policy.per_minute is not None:
            throttle = Throttle(policy.max_in_flight, policy.per_minute, now - RATE_WINDOW)
        extra = {"throttle": throttle} if throttle is not None else {}
        outcome = await self.ledger.hold(
            job_id=job_id,
            scope=scope,
            user_id=user_id,
            amount=cost,
            limits=limits,
            at=now,
            **extra,
        )
        if not outcome.admitted:
            if outcome.throttled or outcome.blocked_by is None:
                raise LimitReached(self.refusal(cost, outcome))
            raise CapReached(self.refusal(cost, outcome), outcome.blocked_by)
        return outcome

    async def admit_approved(
        self, *, job_id: str, scope: str, user_id: str, cost: Money
    ) -> HoldOutcome:
        """Hold an admin-approved job: past the requester's own caps and counts, but inside
        the team pool (raises CapReached naming the pool when it has no room)."""
        self.check_request_size(cost)
        policy = await self.scope_policy(scope)
        pools = [c for c in policy.caps if c.kind is CapKind.POOL]
        limits = [lim for c in pools if (lim := self._limit(c, scope, None, policy.tz))]
        outcome = await self.ledger.hold(
            job_id=job_id,
            scope=scope,
            user_id=user_id,
            amount=cost,
            limits=limits,
            at=self.clock(),
        )
        if not outcome.admitted:
            assert outcome.blocked_by is not None  # no throttle was asked
            raise CapReached(self.refusal(cost, outcome), outcome.blocked_by)
        return outcome

    def refusal(self, cost: Money, outcome: HoldOutcome) -> str:
        """The sentence for a refused hold."""
        if outcome.throttled is Throttled.IN_FLIGHT:
            return (
                f"You already have {outcome.count} videos in flight, the most allowed here at "
                "once. Wait for one to finish or cancel one (`history` lists them)."
            )
        if outcome.throttled is Throttled.RATE:
            wait = "a minute"
            if outcome.oldest_recent is not None:
                left = outcome.oldest_recent + RATE_WINDOW - self.clock()
                wait = f"{max(1, math.ceil(left.total_seconds()))} s"
            return (
                f"You have started {outcome.count} videos in the last minute, the most allowed "
                f"here. Try again in {wait}."
            )
        limit, usage = outcome.blocked_by, outcome.usage
        assert limit is not None and usage is not None
        left = max(limit.limit - usage.used, Money.zero())
        granted = f", {usage.granted} granted" if usage.granted else ""
        return (
            f"This video costs {cost}, but {limit.name} has {left} left "
            f"({limit.limit} cap, {usage.spent} spent, {usage.held} in flight{granted}); "
            f"it {self.describe_reset(limit)}."
        )

    async def status(
        self,
        scope: str,
        user_id: str,
        roles: Sequence[str] | None = None,
        *,
        policy: ScopePolicy | None = None,
    ) -> list[CapStatus]:
        """Usage of every cap that applies (user caps first, then the pool), read together."""
        limits = await self.limits_for(scope, user_id, roles, policy=policy)
        windows = [(limit.user_id, limit.since) for limit in limits]
        usages = await self.ledger.usages(scope=scope, windows=windows)
        return [CapStatus(limit, usage) for limit, usage in zip(limits, usages, strict=True)]

    async def remaining(
        self, scope: str, user_id: str, roles: Sequence[str] | None = None
    ) -> Money | None:
        """The tightest room left across the caps that apply; None when uncapped."""
        statuses = await self.status(scope, user_id, roles)
        return min((s.remaining for s in statuses), default=None)

    def describe_reset(self, limit: Limit) -> str:
        return describe_reset(limit.resets_at, self.clock(), limit.timezone or self.policy.tz)

    async def confirmation_needed(
        self, scope: str, cost: Money, *, policy: ScopePolicy | None = None
    ) -> Money | None:
        """The scope's confirmation threshold when `cost` is above it, else None."""
        if policy is None:
            policy = await self.scope_policy(scope)
        threshold = policy.confirm_above
        return threshold if threshold is not None and cost > threshold else None

    async def alerts(
        self,
        scope: str,
        user_id: str,
        roles: Sequence[str] | None = None,
        *,
        pool_only: bool = False,
        policy: ScopePolicy | None = None,
    ) -> list[Alert]:
        """Caps this user's hold took past the alert share, each told once per period
        (`pool_only`: just the team pool, leaving the user's own alerts for them to see;
        `policy`: the one the hold was decided with, else it is read once)."""
        if policy is None:
            policy = await self.scope_policy(scope)
        percent = policy.alert_percent
        if self.store is None or percent is None:
            return []  # without a store nothing remembers "once per period"
        alerts = []
        for status in await self.status(scope, user_id, roles, policy=policy):
            if pool_only and status.limit.user_id is not None:
                continue
            cap = status.limit.limit
            if not cap or status.usage.used.nanos * 100 < cap.nanos * percent:
                continue
            first = await self.store.first_alert(
                scope=scope,
                cap=status.limit.name,
                user_id=status.limit.user_id or "",
                period_start=status.limit.since or EPOCH,
                at=self.clock(),
            )
            if first:
                alerts.append(Alert(status, percent, self._alert_text(status)))
        return alerts

    def _alert_text(self, status: CapStatus) -> str:
        limit, used = status.limit, status.usage.used
        share = used.nanos * 100 // limit.limit.nanos
        return (
            f"Heads-up: {limit.name} is {share}% used ({used} of {limit.limit}, "
            f"{status.remaining} left); it {self.describe_reset(limit)}."
        )


def _hours(text: str) -> timedelta:
    hours = float(text)
    if not 0 < hours <= 24 * 30:
        raise ValueError(text)
    return timedelta(hours=hours)


def _rule(rules: dict[Rule, str], rule: Rule, parse, default):  # type: ignore[no-untyped-def]
    """A stored rule parsed, or the default when unset or unreadable (logged, not raised:
    a bad stored value must not lock everyone out)."""
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
