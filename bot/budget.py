"""Which caps apply to a request, admission against them, and what is left.

The ledger (storage) makes admission atomic; this module only decides *which* limits apply and
turns the outcome into sentences. The budget-policy work adds role caps, overrides and pools by
extending `CapPolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.errors import BudgetExceeded
from bot.money import Money
from bot.periods import Period, describe_reset, window
from bot.ports import Clock, HoldOutcome, Ledger, Limit, Usage


@dataclass(frozen=True, slots=True)
class CapPolicy:
    """The caps every user gets: one per-user cap with a period (None: uncapped)."""

    user_cap: Money | None
    period: Period
    tz: ZoneInfo
    max_per_request: Money | None = None


@dataclass(frozen=True, slots=True)
class CapStatus:
    limit: Limit
    usage: Usage

    @property
    def remaining(self) -> Money:
        return max(self.limit.limit - self.usage.used, Money.zero())


_PERIOD_NAMES = {"day": "daily", "week": "weekly", "month": "monthly", "none": "total"}


class Budgets:
    """Admission and balances for one deployment."""

    def __init__(self, ledger: Ledger, policy: CapPolicy, clock: Clock):
        self.ledger = ledger
        self.policy = policy
        self.clock = clock

    def limits_for(self, scope: str, user_id: str) -> list[Limit]:
        now = self.clock()
        limits: list[Limit] = []
        if self.policy.user_cap is not None:
            since, resets = window(self.policy.period, now, self.policy.tz)
            name = f"your {_PERIOD_NAMES[self.policy.period]} cap"
            limits.append(Limit(name, scope, user_id, self.policy.user_cap, since, resets))
        return limits

    def check_request_size(self, cost: Money) -> None:
        """Refuse a single request above the per-request maximum before anything is held."""
        ceiling = self.policy.max_per_request
        if ceiling is not None and cost > ceiling:
            raise BudgetExceeded(
                f"This request costs {cost} ({cost.exact_str()} USD), above the {ceiling} "
                "limit for one video. Try fewer frames or a smaller resolution."
            )

    async def admit(self, *, job_id: str, scope: str, user_id: str, cost: Money) -> HoldOutcome:
        """Hold `cost` for the job or raise BudgetExceeded naming the cap and its reset."""
        self.check_request_size(cost)
        limits = self.limits_for(scope, user_id)
        outcome = await self.ledger.hold(
            job_id=job_id, scope=scope, user_id=user_id, amount=cost, limits=limits,
            at=self.clock(),
        )  # fmt: skip
        if not outcome.admitted:
            raise BudgetExceeded(self.refusal(cost, outcome))
        return outcome

    def refusal(self, cost: Money, outcome: HoldOutcome) -> str:
        limit, usage = outcome.blocked_by, outcome.usage
        assert limit is not None and usage is not None
        left = max(limit.limit - usage.used, Money.zero())
        reset = describe_reset(limit.resets_at, self.clock(), self.policy.tz)
        return (
            f"This video costs {cost}, but {limit.name} has {left} left "
            f"({limit.limit} cap, {usage.spent} spent, {usage.held} in flight); it {reset}."
        )

    async def status(self, scope: str, user_id: str) -> list[CapStatus]:
        statuses = []
        for limit in self.limits_for(scope, user_id):
            usage = await self.ledger.usage(scope=scope, user_id=limit.user_id, since=limit.since)
            statuses.append(CapStatus(limit, usage))
        return statuses

    async def remaining(self, scope: str, user_id: str) -> Money | None:
        """The tightest room left across the caps that apply; None when uncapped."""
        statuses = await self.status(scope, user_id)
        return min((s.remaining for s in statuses), default=None)

    def describe_reset(self, limit: Limit) -> str:
        return describe_reset(limit.resets_at, self.clock(), self.policy.tz)
