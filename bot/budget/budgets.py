"""The budget's one entry point: what applies to a request, admission against it, what is left.

The ledger (storage) makes admission atomic: every cap that applies, and the user's in-flight
and per-minute counts, are checked and the hold written in one transaction. `Budgets` only
decides *which* limits apply (`bot.budget.limits`, from the scope's policy in
`bot.budget.scope_policy`) and turns outcomes into sentences (`bot.budget.sentences`). What
admins change goes through `Budgets.admin`, approval requests through `Budgets.approvals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from bot.budget.administration import Administration
from bot.budget.admission_context import AdmissionContext, channel_verdict
from bot.budget.approval_requests import ApprovalRequests
from bot.budget.limits import RATE_WINDOW, Alert, CapStatus, applicable, pool_limits
from bot.budget.scope_policy import CapPolicy, ScopePolicy, resolve_policy
from bot.budget.sentences import alert_text, refusal, reset_of, too_big
from bot.errors import BudgetExceeded, CapReached, LimitReached
from bot.money import Money
from bot.ports import Clock, HoldOutcome, Ledger, Limit, PolicyStore, Throttle

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Budgets:
    """Admission and balances for one deployment; `store` holds what admins set per scope."""

    def __init__(self, ledger: Ledger, policy: CapPolicy, clock: Clock, store: PolicyStore):
        self.ledger = ledger
        self.policy = policy
        self.clock = clock
        self.store = store
        self.admin = Administration(store, ledger, self.scope_policy)
        self.approvals = ApprovalRequests(store.approvals)
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
        stored = await self.store.read(scope=scope)
        return resolve_policy(self.policy, stored.caps, stored.rules)

    async def admission_context(
        self, scope: str, channel_id: str, *, check: bool = True, presets: bool = True
    ) -> AdmissionContext:
        """What a request in this channel is decided by, in one read of the store: the scope's
        policy, the channel's verdict (unless `check` is False) and its presets (unless
        `presets` is False)."""
        stored = await self.store.read(
            scope=scope, channel_list=check, presets_of=channel_id if presets else None
        )
        listed = stored.channels
        return AdmissionContext(
            policy=resolve_policy(self.policy, stored.caps, stored.rules),
            channel=None if listed is None else channel_verdict(listed, channel_id),
            defaults=stored.presets or MappingProxyType({}),
        )

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
        return applicable(policy, self.policy, scope, user_id, roles, self.clock())

    def check_request_size(self, cost: Money) -> None:
        """Refuse a single request above the per-request maximum before anything is held."""
        ceiling = self.policy.max_per_request
        if ceiling is not None and cost > ceiling:
            raise BudgetExceeded(too_big(cost, ceiling))

    async def admit(
        self,
        *,
        job_id: str,
        scope: str,
        user_id: str,
        cost: Money,
        roles: Sequence[str] | None = None,
        policy: ScopePolicy | None = None,
        takes: Sequence[tuple[str, Money]] = (),
    ) -> HoldOutcome:
        """Hold `cost` for the job, or raise BudgetExceeded (LimitReached for the counts)
        naming what refused it, what is left and when it resets (`policy`: the scope's, if
        the command has just read it). With `takes` (job id, amount; `cost` their total) every
        take is held or none (`Ledger.hold_many`)."""
        self.check_request_size(cost)
        if policy is None:
            policy = await self.scope_policy(scope)
        now = self.clock()
        roles = self._roles_of(scope, user_id, roles)
        limits = applicable(policy, self.policy, scope, user_id, roles, now)
        throttle = None
        if policy.max_in_flight is not None or policy.per_minute is not None:
            throttle = Throttle(policy.max_in_flight, policy.per_minute, now - RATE_WINDOW)
        extra = {"throttle": throttle} if throttle is not None else {}
        if takes:
            outcome = await self.ledger.hold_many(
                holds=takes, scope=scope, user_id=user_id, limits=limits, at=now, **extra
            )
        else:
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
        self,
        *,
        job_id: str,
        scope: str,
        user_id: str,
        cost: Money,
        policy: ScopePolicy | None = None,
        takes: Sequence[tuple[str, Money]] = (),
    ) -> HoldOutcome:
        """Hold an admin-approved job: past the requester's own caps and counts, but inside
        the team pool (raises CapReached naming the pool when it has no room). With `takes`,
        every take's hold or none, as in `admit`."""
        self.check_request_size(cost)
        if policy is None:
            policy = await self.scope_policy(scope)
        now = self.clock()
        pool = pool_limits(policy, scope, now)
        if takes:
            outcome = await self.ledger.hold_many(
                holds=takes, scope=scope, user_id=user_id, limits=pool, at=now
            )
        else:
            outcome = await self.ledger.hold(
                job_id=job_id, scope=scope, user_id=user_id, amount=cost, limits=pool, at=now
            )
        if not outcome.admitted:
            assert outcome.blocked_by is not None  # no throttle was asked
            raise CapReached(self.refusal(cost, outcome), outcome.blocked_by)
        return outcome

    def refusal(self, cost: Money, outcome: HoldOutcome) -> str:
        """The sentence for a refused hold."""
        return refusal(cost, outcome, self.clock(), self.policy.tz)

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
        self,
        scope: str,
        user_id: str,
        roles: Sequence[str] | None = None,
        *,
        policy: ScopePolicy | None = None,
        settling: Settling | None = None,
    ) -> Money | None:
        """The tightest room left across the caps that apply; None when uncapped. With
        `settling`, as it will be once that hold is captured for less than it holds."""
        statuses = await self.status(scope, user_id, roles, policy=policy)
        return min((_room(s, settling) for s in statuses), default=None)

    async def room_refusal(
        self,
        scope: str,
        user_id: str,
        cost: Money,
        roles: Sequence[str] | None = None,
        *,
        policy: ScopePolicy,
    ) -> str | None:
        """The refusal a hold of `cost` would meet now, read without holding: the first cap
        without room, in the hold's order (None when every cap has room, or when the first
        without is the user's own and an admin channel lets an admin approve past it)."""
        for status in await self.status(scope, user_id, roles, policy=policy):
            if cost <= status.remaining:
                continue
            if status.limit.user_id is not None and policy.admin_channel is not None:
                return None
            outcome = HoldOutcome(admitted=False, blocked_by=status.limit, usage=status.usage)
            return self.refusal(cost, outcome)
        return None

    def describe_reset(self, limit: Limit) -> str:
        return reset_of(limit, self.clock(), self.policy.tz)

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
        if percent is None:
            return []
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
                text = alert_text(status, self.clock(), self.policy.tz)
                alerts.append(Alert(status, percent, text))
        return alerts


@dataclass(frozen=True, slots=True)
class Settling:
    """A hold about to be captured: when it was made and what the capture gives back."""

    held_at: datetime
    given_back: Money


def _room(status: CapStatus, settling: Settling | None) -> Money:
    """The cap's room, after `settling`'s capture when its hold counts in the cap's period
    (a hold made yesterday does not count in today's daily cap)."""
    if settling is None:
        return status.remaining
    since = status.limit.since
    if since is not None and settling.held_at < since:
        return status.remaining
    used = status.usage.used - settling.given_back
    return max(status.limit.limit - used, Money.zero())
