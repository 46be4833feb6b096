"""A scope's caps and rules read in one statement, so they always agree.

One statement is one snapshot (on SQLite an autocommit read, on PostgreSQL one statement's
snapshot) and needs no transaction. Rule rows carry their value (never NULL), cap rows a NULL
one; rules put their name in `kind`.
"""

from __future__ import annotations

from sqlalchemy import Text, bindparam, cast, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.money import Money
from bot.ports import Cap, CapKind, Rule
from storage.tables import budget_caps, scope_rules

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


async def read_caps_and_rules(
    connection: AsyncConnection, scope: str
) -> tuple[tuple[Cap, ...], dict[Rule, str]]:
    """The scope's caps (ordered by kind, then subject) and its known rules (names from a newer
    version left out)."""
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
