"""Approval requests: a video an admin lets through the requester's own caps.

A request is made when a video costs more than the scope's approval threshold, or when it does
not fit the requester's caps, and the requester presses "Ask for approval". It is posted to the
scope's admin channel with Approve / Deny buttons and waits there until it is decided or
expires (24 h unless an admin set `approval_hours`).

What Approve does (the rule, documented in the README): the job's hold skips the requester's
personal caps (default, override, role), their in-flight and per-minute limits, but must still
fit the team pool when one is set. The hold is written under the requester, so the spend is
theirs in `budget`, `admin usage` and `admin export`, like any other video of theirs.

Deciding is one conditional write in storage (pending -> approved/denied/expired), so of an
Approve racing a Deny or a second Approve exactly one wins, and only the winner starts the job.
The request id is the job id (the buttons carry it, as every other job button does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.money import Money

DEFAULT_APPROVAL_TTL = timedelta(hours=24)


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"  # nobody decided in time (found so when pressed or listed)
    WITHDRAWN = "withdrawn"  # the request could not be posted, or its job ended otherwise


FINAL_STATES = frozenset(set(ApprovalState) - {ApprovalState.PENDING})


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
