"""`bot.ports.ApprovalStore` on SQLAlchemy Core (SQLite and PostgreSQL).

A decision is a single `UPDATE ... WHERE state = 'pending' [AND expires_at > now]`: the
database serialises racing writers on the row, and only the one whose update matched a row
(rowcount 1) has decided. Nothing is read first and written back across an await.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.money import Money
from bot.ports import ApprovalRequest, ApprovalState
from storage.tables import approval_requests

table = approval_requests
# Decisions that a request's expiry does not stop (the bot's own housekeeping).
UNTIMED = (ApprovalState.EXPIRED, ApprovalState.WITHDRAWN)


def _request(row: Row[Any]) -> ApprovalRequest:  # Any: SQLAlchemy types a Table's rows Row[Any]
    return ApprovalRequest(
        job_id=row.job_id,
        scope=row.scope,
        user_id=row.user_id,
        cost=Money(int(row.cost)),
        reason=row.reason,
        created_at=row.created_at,
        expires_at=row.expires_at,
        state=ApprovalState(row.state),
        admin_channel=row.admin_channel,
        message_id=row.message_id,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


class SqlApprovalStore:
    """Approval requests for every scope, one row per job."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, request: ApprovalRequest) -> bool:
        """Insert the request; False when one is stored for its job already (a second press:
        the first request stands)."""
        values = {
            "job_id": request.job_id,
            "scope": request.scope,
            "user_id": request.user_id,
            "cost": request.cost.nanos,
            "reason": request.reason,
            "state": request.state.value,
            "created_at": request.created_at,
            "expires_at": request.expires_at,
            "admin_channel": request.admin_channel,
        }
        try:
            async with self._engine.begin() as connection:
                await connection.execute(table.insert().values(**values))
        except IntegrityError:
            return False
        return True

    async def get(self, *, job_id: str) -> ApprovalRequest | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(table).where(table.c.job_id == job_id))).first()
        return _request(row) if row is not None else None

    async def decide(
        self, *, job_id: str, state: ApprovalState, by: str | None, at: datetime
    ) -> bool:
        """Pending -> `state` for exactly one caller (Approve / Deny only before expiry)."""
        if state is ApprovalState.PENDING:
            raise ValueError("a decision moves a request out of pending")
        conditions = [table.c.job_id == job_id, table.c.state == ApprovalState.PENDING.value]
        if state not in UNTIMED:
            conditions.append(table.c.expires_at > at)
        statement = (
            update(table).where(*conditions).values(state=state.value, decided_by=by, decided_at=at)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def posted(self, *, job_id: str, admin_channel: str, message_id: str | None) -> None:
        statement = (
            update(table)
            .where(table.c.job_id == job_id)
            .values(admin_channel=admin_channel, message_id=message_id)
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def pending(self, *, scope: str, now: datetime, limit: int = 20) -> list[ApprovalRequest]:
        """Still waiting at `now` (not expired), oldest first."""
        query = (
            select(table)
            .where(
                table.c.scope == scope,
                table.c.state == ApprovalState.PENDING.value,
                table.c.expires_at > now,
            )
            .order_by(table.c.created_at, table.c.job_id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_request(row) for row in rows]
