"""What admins set for a scope read in one statement, so that it always agrees: its caps and
rules, and when asked its channel list and one channel's presets.

One statement is one snapshot (on SQLite an autocommit read, on PostgreSQL one statement's
snapshot) and needs no transaction. Every table's rows take the same columns in a UNION ALL:
`part` says which table a row is from, `name` is its key (a cap's kind, a rule's name, a
channel's id, a preset's option) and `value` what is stored under it (NULL on caps).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TypeVar

from sqlalchemy import (
    Cast,
    Column,
    CompoundSelect,
    Label,
    Row,
    Text,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.money import Money
from bot.ports import Cap, CapKind, ChannelAccess, Rule, StoredPolicy
from storage.tables import budget_caps, channel_access, channel_defaults, scope_rules

# part, name, subject, amount, period, set_by, set_at, value
_Shape = tuple[str, str, str | None, int | None, str | None, str | None, datetime, str | None]
_Row = Row[*_Shape]
_SCOPE = bindparam("scope", type_=budget_caps.c.scope.type)
_T = TypeVar("_T")


def _part(name: str) -> Label[str]:
    return literal_column(f"'{name}'", Text).label("part")


def _none(column: Column[_T]) -> Label[_T | None]:
    """A NULL typed like `column` (PostgreSQL wants each UNION column's type), under its name."""
    typed: Cast[_T | None] = cast(null(), column.type)
    return typed.label(column.name)


# What a row of another table has in the columns only caps fill.
_NOT_A_CAP = (
    _none(budget_caps.c.subject),
    _none(budget_caps.c.amount),
    _none(budget_caps.c.period),
    _none(budget_caps.c.set_by),
)


_caps = select(
    _part("cap"),
    budget_caps.c.kind.label("name"),
    budget_caps.c.subject,
    budget_caps.c.amount,
    budget_caps.c.period,
    budget_caps.c.set_by,
    budget_caps.c.set_at,
    _none(scope_rules.c.value),
).where(budget_caps.c.scope == _SCOPE)
_rules = select(
    _part("rule"), scope_rules.c.name, *_NOT_A_CAP, scope_rules.c.set_at, scope_rules.c.value
).where(scope_rules.c.scope == _SCOPE)
_channels = select(
    _part("channel"),
    channel_access.c.channel_id.label("name"),
    *_NOT_A_CAP,
    channel_access.c.set_at,
    channel_access.c.access.label("value"),
).where(channel_access.c.scope == _SCOPE)
_presets = select(
    _part("preset"),
    channel_defaults.c.option.label("name"),
    *_NOT_A_CAP,
    channel_defaults.c.set_at,
    channel_defaults.c.value,
).where(
    channel_defaults.c.scope == _SCOPE, channel_defaults.c.channel_id == bindparam("channel_id")
)


def _statement(channel_list: bool, presets: bool) -> CompoundSelect[*_Shape]:
    every = union_all(
        _caps, _rules, *([_channels] if channel_list else []), *([_presets] if presets else [])
    )
    columns = every.selected_columns
    return every.order_by(columns.part, columns.name, columns.subject)


# (channel list?, presets?): the statement that reads them with the caps and rules.
_STATEMENTS = {(c, p): _statement(c, p) for c in (False, True) for p in (False, True)}


async def read_policy(
    connection: AsyncConnection, scope: str, channel_list: bool, presets_of: str | None
) -> StoredPolicy:
    """The scope's caps (by kind, then subject) and known rules (names from a newer version
    left out), with its channel list and the presets of channel `presets_of` when asked."""
    statement = _STATEMENTS[channel_list, presets_of is not None]
    params = {"scope": scope} if presets_of is None else {"scope": scope, "channel_id": presets_of}
    rows = (await connection.execute(statement, params)).all()
    known = {rule.value for rule in Rule}
    rules = {Rule(row.name): row.value for row in _of(rows, "rule") if row.name in known}
    channels = {row.name: ChannelAccess(row.value) for row in _of(rows, "channel")}
    presets = {row.name: row.value for row in _of(rows, "preset")}
    return StoredPolicy(
        caps=tuple(_cap(row) for row in _of(rows, "cap")),
        rules=MappingProxyType(rules),
        channels=MappingProxyType(channels) if channel_list else None,
        presets=MappingProxyType(presets) if presets_of is not None else None,
    )


def _of(rows: Sequence[_Row], part: str) -> list[_Row]:
    return [row for row in rows if row.part == part]


def _cap(row: _Row) -> Cap:
    return Cap(
        kind=CapKind(row.name),
        subject=row.subject,
        amount=Money(int(row.amount)) if row.amount is not None else None,
        period=row.period,
        set_by=row.set_by,
        set_at=row.set_at,
    )
