"""The approval requests of every scope, as the approval commands use them (the rules are in
`bot.budget.approvals`; every decision is the store's one conditional write)."""

from __future__ import annotations

from datetime import datetime

from bot.ports import ApprovalRequest, ApprovalState, ApprovalStore


class ApprovalRequests:
    """Open, find, post and decide approval requests (a request's id is its job's id)."""

    def __init__(self, store: ApprovalStore) -> None:
        self._store = store

    async def open(self, request: ApprovalRequest) -> bool:
        """Record the request; False (nothing written) when its job has one already."""
        return await self._store.create(request)

    async def get(self, job_id: str) -> ApprovalRequest | None:
        return await self._store.get(job_id=job_id)

    async def decide(
        self, job_id: str, state: ApprovalState, *, by: str | None, at: datetime
    ) -> bool:
        """Move the pending request to `state`; True only for the one caller that moved it."""
        return await self._store.decide(job_id=job_id, state=state, by=by, at=at)

    async def posted(self, job_id: str, admin_channel: str, message_id: str | None) -> None:
        """Remember where the request was posted."""
        await self._store.posted(job_id=job_id, admin_channel=admin_channel, message_id=message_id)

    async def waiting(self, scope: str, now: datetime) -> list[ApprovalRequest]:
        """The scope's requests still waiting at `now`, oldest first."""
        return await self._store.pending(scope=scope, now=now)
