"""`PolicyStore` (`bot.ports`) on SQLAlchemy Core: caps, rules, the admin audit log, alert marks.

Every change an admin makes is written in the same transaction as its audit entry, so the log
cannot miss a change that happened (`storage.policy_writes`). A scope's caps and rules, with its
channel list and a channel's presets when asked, are read in one statement
(`storage.policy_reads`), shared by concurrent askers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import AuditEntry, Cap, CapKind, ChannelAccess, Rule, StoredPolicy
from storage.approvals import SqlApprovalStore
from storage.coalesce import SharedReads
from storage.engine import single_statement_reads
from storage.policy_reads import read_policy
from storage.policy_writes import (
    CAP_KEYS,
    CHANNEL_KEYS,
    DEFAULT_KEYS,
    RULE_KEYS,
    upsert,
    write_audit,
)
from storage.tables import (
    admin_audit,
    budget_alerts,
    budget_caps,
    channel_access,
    channel_defaults,
    scope_rules,
)


class SqlPolicyStore:
    """Caps, rules and the audit log for every scope, on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Every read here is one SELECT: no write lock, no BEGIN (see storage.engine).
        self._reads = single_statement_reads(engine)
        self.approvals = SqlApprovalStore(engine)
        # Every request and hold asks for its scope's policy first: concurrent askers of the same
        # (scope, channel list?, presets of) share one read, each answered by a read that began
        # after it asked, so an admin's change on any replica applies to the next hold.
        self._policy = SharedReads(self._read_policy)

    async def close(self) -> None:
        """Stop the shared-read tasks (the engine is closed by `Storage.close`)."""
        await self._policy.close()

    async def read(
        self, *, scope: str, channel_list: bool = False, presets_of: str | None = None
    ) -> StoredPolicy:
        """The scope's caps and rules, its channel list and a channel's presets when asked, in
        one statement (shared with concurrent askers of the same)."""
        return await self._policy.get((scope, channel_list, presets_of))

    async def _read_policy(self, key: tuple[str, bool, str | None]) -> StoredPolicy:
        async with self._reads.connect() as connection:
            return await read_policy(connection, *key)

    async def caps(self, *, scope: str) -> list[Cap]:
        """The scope's stored caps, in a stable order (kind, then subject)."""
        return list((await self.read(scope=scope)).caps)

    async def set_cap(self, *, scope: str, cap: Cap, actor: str, reason: str, at: datetime) -> None:
        """Insert or replace the cap for (kind, subject), with its audit entry."""
        if cap.amount is not None and cap.amount.nanos < 0:
            raise ValueError("a cap cannot be negative")
        values = {
            "scope": scope,
            "kind": cap.kind.value,
            "subject": cap.subject,
            "amount": cap.amount.nanos if cap.amount is not None else None,
            "period": cap.period,
            "set_by": actor,
            "set_at": at,
        }
        amount = str(cap.amount) if cap.amount is not None else "uncapped"
        detail = f"{_cap_name(cap.kind, cap.subject)} = {amount} per {cap.period}"
        async with self._engine.begin() as connection:
            await connection.execute(upsert(connection, budget_caps, values, CAP_KEYS))
            await write_audit(connection, scope, actor, "caps set", detail, reason, at)

    async def clear_cap(
        self, *, scope: str, kind: CapKind, subject: str, actor: str, reason: str, at: datetime
    ) -> bool:
        """Remove the cap (audited when there was one); False when there was none."""
        statement = delete(budget_caps).where(
            budget_caps.c.scope == scope,
            budget_caps.c.kind == kind.value,
            budget_caps.c.subject == subject,
        )
        async with self._engine.begin() as connection:
            removed = (await connection.execute(statement)).rowcount > 0
            if removed:
                detail = _cap_name(kind, subject)
                await write_audit(connection, scope, actor, "caps clear", detail, reason, at)
        return removed

    async def rules(self, *, scope: str) -> dict[Rule, str]:
        """The scope's stored rules (unknown names, from a newer version, left out)."""
        return dict((await self.read(scope=scope)).rules)

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
        """Set one rule, or remove it with None (back to the default); audited as `action`."""
        async with self._engine.begin() as connection:
            if value is None:
                await connection.execute(
                    delete(scope_rules).where(
                        scope_rules.c.scope == scope, scope_rules.c.name == rule.value
                    )
                )
            else:
                values = {
                    "scope": scope,
                    "name": rule.value,
                    "value": value,
                    "set_by": actor,
                    "set_at": at,
                }
                await connection.execute(upsert(connection, scope_rules, values, RULE_KEYS))
            detail = f"{rule.value} = {value if value is not None else 'default'}"
            await write_audit(connection, scope, actor, action, detail, reason, at)

    async def record(
        self, *, scope: str, actor: str, action: str, detail: str, reason: str, at: datetime
    ) -> AuditEntry:
        """Append one audit entry."""
        async with self._engine.begin() as connection:
            entry_id = await write_audit(connection, scope, actor, action, detail, reason, at)
        return AuditEntry(entry_id, scope, actor, action, detail, reason, at.astimezone(UTC))

    async def audit(self, *, scope: str, limit: int = 20) -> list[AuditEntry]:
        """The scope's newest audit entries first."""
        query = (
            select(admin_audit)
            .where(admin_audit.c.scope == scope)
            .order_by(admin_audit.c.id.desc())
            .limit(limit)
        )
        async with self._reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            AuditEntry(int(r.id), r.scope, r.actor, r.action, r.detail, r.reason, r.created_at)
            for r in rows
        ]

    async def first_alert(
        self, *, scope: str, cap: str, user_id: str, period_start: datetime, at: datetime
    ) -> bool:
        """True for the one caller that records this (cap, user, period) first."""
        insert = budget_alerts.insert().values(
            scope=scope, cap=cap, user_id=user_id, period_start=period_start, created_at=at
        )
        try:
            async with self._engine.begin() as connection:
                await connection.execute(insert)
        except IntegrityError:
            return False
        return True

    async def channels(self, *, scope: str) -> dict[str, ChannelAccess]:
        query = select(channel_access.c.channel_id, channel_access.c.access).where(
            channel_access.c.scope == scope
        )
        async with self._reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row.channel_id: ChannelAccess(row.access) for row in rows}

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
        """Allow or deny a channel, or take it off the list (None); audited."""
        async with self._engine.begin() as connection:
            if access is None:
                await connection.execute(
                    delete(channel_access).where(
                        channel_access.c.scope == scope, channel_access.c.channel_id == channel_id
                    )
                )
            else:
                values = {
                    "scope": scope,
                    "channel_id": channel_id,
                    "access": access.value,
                    "set_by": actor,
                    "set_at": at,
                }
                await connection.execute(upsert(connection, channel_access, values, CHANNEL_KEYS))
            shown = access.value if access is not None else "unlisted"
            await write_audit(
                connection, scope, actor, "channel set", f"<#{channel_id}> = {shown}", reason, at
            )

    async def channel_defaults(self, *, scope: str, channel_id: str) -> dict[str, str]:
        query = select(channel_defaults.c.option, channel_defaults.c.value).where(
            channel_defaults.c.scope == scope, channel_defaults.c.channel_id == channel_id
        )
        async with self._reads.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {row.option: row.value for row in rows}

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
        """Preset one option for a channel, or unset it (None); audited."""
        async with self._engine.begin() as connection:
            if value is None:
                await connection.execute(
                    delete(channel_defaults).where(
                        channel_defaults.c.scope == scope,
                        channel_defaults.c.channel_id == channel_id,
                        channel_defaults.c.option == option,
                    )
                )
            else:
                values = {
                    "scope": scope,
                    "channel_id": channel_id,
                    "option": option,
                    "value": value,
                    "set_by": actor,
                    "set_at": at,
                }
                await connection.execute(upsert(connection, channel_defaults, values, DEFAULT_KEYS))
            detail = f"<#{channel_id}> {option} = {value if value is not None else 'unset'}"
            await write_audit(connection, scope, actor, "defaults set", detail, reason, at)


def _cap_name(kind: CapKind, subject: str) -> str:
    return f"{kind.value} {subject}".strip()
