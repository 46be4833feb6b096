"""`ApprovalStore`: approval requests as storage keeps them, with the one atomic step every
decision goes through. What an approval lets through is in `bot.budget.approvals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.money import Money


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"  # nobody decided in time (found so when pressed or listed)
    WITHDRAWN = "withdrawn"  # the request could not be posted, or its job ended otherwise


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """One request, as stored. `scope` is the ledger's team key ("discord:<guild>")."""

    job_id: str
    scope: str
    user_id: str
    cost: Money
    reason: str  # which cap it hits, as shown to the admins
    created_at: datetime
    expires_at: datetime
    state: ApprovalState = ApprovalState.PENDING
    admin_channel: str | None = None
    message_id: str | None = None  # the request's message in the admin channel
    decided_by: str | None = None
    decided_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.state is ApprovalState.PENDING and now >= self.expires_at


class ApprovalStore(Protocol):
    """Storage for approval requests; `decide` is the atomic step every decision goes through."""

    async def create(self, request: ApprovalRequest) -> bool:
        """Insert the request; False (nothing written) when the job has one already."""
        ...

    async def get(self, *, job_id: str) -> ApprovalRequest | None: ...

    async def decide(
        self, *, job_id: str, state: ApprovalState, by: str | None, at: datetime
    ) -> bool:
        """Move a pending request to `state`, only if it is still pending and, unless `state`
        is EXPIRED or WITHDRAWN, not expired at `at`. True for the one caller that moved it."""
        ...

    async def posted(self, *, job_id: str, admin_channel: str, message_id: str | None) -> None:
        """Remember where the request was posted."""
        ...

    async def pending(self, *, scope: str, now: datetime, limit: int = 20) -> list[ApprovalRequest]:
        """The scope's requests still waiting at `now`, oldest first."""
        ...
