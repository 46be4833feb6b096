"""`PolicyStore` (`bot.ports`) on SQLAlchemy Core: caps, rules, the admin audit log, alert marks.

Every change an admin makes is written in the same transaction as its audit entry, so the log
cannot miss a change that happened. Upserts use each dialect's ON CONFLICT, so two admins
setting the same cap at once both succeed (the last one wins) instead of one failing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, delete, null, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.money import Money
from bot.ports import AuditEntry, Cap, CapKind, ChannelAccess, Rule
from storage.approvals import SqlApprovalStore
from storage.coalesce import SharedReads
from storage.engine import single_statement_reads
from storage.tables import (
    admin_audit,
    budget_alerts,
    budget_caps,
    channel_access,
    channel_defaults,
    scope_rules,
)

# A scope's caps and rules in one statement, so one snapshot (on SQLite an autocommit read,
# on PostgreSQL one statement's snapshot) and no transaction: they always agree. Rule rows
# carry their value (never NULL), cap rows a NULL one; rules put their name in `kind`.
_caps = select(
    budget_caps.c.kind,
    budget_caps.c.subject,
    budget_caps.c.amount,
    budget_caps.c.period,
    budget_caps.c.set_by,
    budget_caps.c.set_at,
    cast(null(), Text).label("value"),
).where(budget_caps.c.scope == bindparam("scope"))
_rules = select(
    scope_rules.c.name.label("kind"),
    cast(null(), budget_caps.c.subject.type).label("subject"),
    cast(null(), budget_caps.c.amount.type).label("amount"),
    cast(null(), budget_caps.c.period.type).label("period"),
    cast(null(), budget_caps.c.set_by.type).label("set_by"),
    scope_rules.c.set_at,
    scope_rules.c.value,
).where(scope_rules.c.scope == bindparam("scope"))
_both = union_all(_caps, _rules)
_POLICY = _both.order_by(_both.selected_columns.kind, _both.selected_columns.subject)


def _upsert(
    connection: AsyncConnection, table: Any, values: dict[str, Any], keys: list[str]
) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    changes = {name: value for name, value in values.items() if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changes)


async def _audit(
    connection: AsyncConnection,
    scope: str,
    actor: str,
    action: str,
    detail: str,
    reason: str,
    at: datetime,
) -> int:
    insert = admin_audit.insert().values(
        scope=scope, actor=actor, action=action, detail=detail, reason=reason, created_at=at
    )
    return int((await connection.execute(insert)).inserted_primary_key[0])  # type: ignore[index]


class SqlPolicyStore:
    """Caps, rules and the audit log for every scope, on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Every read here is one SELECT: no write lock, no BEGIN (see storage.engine).
        self._reads = single_statement_reads(engine)
        self.approvals = SqlApprovalStore(engine)
        # Every hold asks for its scope's caps and rules first (bot.budget.budgets asks for both at
        # once): concurrent askers share one read of both, each answered by a read that began
        # after it asked, so an admin's change on any replica applies to the next hold.
        self._policy = SharedReads(self._read_policy)

    async def close(self) -> None:
        """Stop the shared-read tasks (the engine is closed by `Storage.close`)."""
        await self._policy.close()

    async def caps(self, *, scope: str) -> list[Cap]:
        """The scope's stored caps, in a stable order (kind, then subject)."""
        return list((await self._policy.get(scope))[0])

    async def _read_policy(self, scope: str) -> tuple[tuple[Cap, ...], dict[Rule, str]]:
        async with self._reads.connect() as connection:
            rows = (await connection.execute(_POLICY, {"scope": scope})).all()
        caps = tuple(
            Cap(
                kind=CapKind(row.kind),
                subject=row.subject,
                amount=Money(int(row.amount)) if row.amount is not None else None,
                period=row.period,
                set_by=row.set_by,
                set_at=row.set_at,
            )
            for row in rows
            if row.value is None
        )
        known = {rule.value for rule in Rule}
        rules = {
            Rule(row.kind): row.value for row in rows if row.value is not None and row.kind in known
        }
        return caps, rules

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
            await connection.execute(_upsert(connection, budget_caps, values, _CAP_KEYS))
            await _audit(connection, scope, actor, "caps set", detail, reason, at)

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
                await _audit(connection, scope, actor, "caps clear", detail, reason, at)
        return removed

    async def rules(self, *, scope: str) -> dict[Rule, str]:
        """The scope's stored rules (unknown names, from a newer version, left out)."""
        return dict((await self._policy.get(scope))[1])

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
                await connection.execute(_upsert(connection, scope_rules, values, _RULE_KEYS))
            detail = f"{rule.value} = {value if value is not None else 'default'}"
            await _audit(connection, scope, actor, action, detail, reason, at)

    async def record(
        self, *, scope: str, actor: str, action: str, detail: str, reason: str, at: datetime
    ) -> AuditEntry:
        """Append one audit entry."""
        async with self._engine.begin() as connection:
            entry_id = await _audit(connection, scope, actor, action, detail, reason, at)
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
                await connection.execute(_upsert(connection, channel_access, values, _CHANNEL_KEYS))
            shown = access.value if access is not None else "unlisted"
            await _audit(
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
                await connection.execute(
                    _upsert(connection, channel_defaults, values, _DEFAULT_KEYS)
                )
            detail = f"<#{channel_id}> {option} = {value if value is not None else 'unset'}"
            await _audit(connection, scope, actor, "defaults set", detail, reason, at)


_CAP_KEYS = ["scope", "kind", "subject"]
_RULE_KEYS = ["scope", "name"]
_CHANNEL_KEYS = ["scope", "channel_id"]
_DEFAULT_KEYS = ["scope", "channel_id", "option"]


def _cap_name(kind: CapKind, subject: str) -> str:
    return f"{kind.value} {subject}".strip()
