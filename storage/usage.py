"""What a cap has used, as SQL: the ledger rules in statements built once, with bind parameters.

Usage of a cap = spent (CAPTURE entries) + held (HOLD entries with no closing entry) - granted
(GRANT and ADJUST entries), over a scope's entries effective from the cap's window start. A
user's cap counts that user's entries and grants; the team pool counts every user's entries
but only the grants made to the pool (user_id NULL). Statements are module constants so that
each use only binds values: SQLAlchemy compiles each once, instead of rebuilding the query per
hold.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import ColumnElement, Executable, and_, bindparam, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import EntryKind
from storage.tables import ledger_entries

entry = ledger_entries
closing = ledger_entries.alias("closing")
HOLD = EntryKind.HOLD.value
GRANT_KINDS = (EntryKind.GRANT.value, EntryKind.ADJUST.value)
CLOSING_KINDS = (EntryKind.CAPTURE.value, EntryKind.RELEASE.value)
# Each hold row joined to its closing entry, if any (at most one, by the unique index).
entries_with_closing = entry.outerjoin(
    closing,
    and_(closing.c.ref == entry.c.ref, entry.c.kind == HOLD, closing.c.kind.in_(CLOSING_KINDS)),
)
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:scope, 0))")


def _amount_sum(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, entry.c.amount), else_=0)), 0)


def _sums(granted: ColumnElement[bool]) -> list[ColumnElement[int]]:
    """spent, held, granted over the selected entries."""
    return [
        _amount_sum(entry.c.kind == EntryKind.CAPTURE.value),
        _amount_sum(and_(entry.c.kind == HOLD, closing.c.id.is_(None))),
        _amount_sum(granted),
    ]


def _windowed(since: bool) -> list[ColumnElement[bool]]:
    """The scope's entries, since `:since` when asked."""
    conditions = [entry.c.scope == bindparam("scope")]
    if since:
        conditions.append(entry.c.effective_at >= bindparam("since"))
    return conditions


def _users_query(since: bool) -> Executable:
    query = select(entry.c.user_id, *_sums(entry.c.kind.in_(GRANT_KINDS)))
    users = entry.c.user_id.in_(bindparam("users", expanding=True))
    query = query.select_from(entries_with_closing).where(*_windowed(since), users)
    return query.group_by(entry.c.user_id)


def _pool_query(since: bool) -> Executable:
    granted = and_(entry.c.kind.in_(GRANT_KINDS), entry.c.user_id.is_(None))
    return select(*_sums(granted)).select_from(entries_with_closing).where(*_windowed(since))


_USERS = {since: _users_query(since) for since in (False, True)}
_POOL = {since: _pool_query(since) for since in (False, True)}


def users_usage(
    scope: str, users: Collection[str], since: datetime | None
) -> tuple[Executable, dict[str, object]]:
    """(statement, parameters) giving rows (user_id, spent, held, granted) for these users'
    caps (users without entries have no row)."""
    params: dict[str, object] = {"scope": scope, "users": list(users)}
    if since is not None:
        params["since"] = since
    return _USERS[since is not None], params


def pool_usage(scope: str, since: datetime | None) -> tuple[Executable, dict[str, object]]:
    """(statement, parameters) giving one row (spent, held, granted) for the scope's pool."""
    params: dict[str, object] = {"scope": scope}
    if since is not None:
        params["since"] = since
    return _POOL[since is not None], params


# A cap's window as usage sees it: (user, None for the pool; start, None for all time).
Window = tuple[str | None, datetime | None]


def _window_sums(index: int, user: bool, since: bool) -> list[ColumnElement[int]]:
    """spent, held, granted of window `index`, as `users_usage` / `pool_usage` count them."""
    inside = [entry.c.effective_at >= bindparam(f"since_{index}")] if since else []
    if user:
        mine = entry.c.user_id == bindparam(f"user_{index}")
        granted = and_(entry.c.kind.in_(GRANT_KINDS), mine, *inside)
        inside.append(mine)
    else:
        granted = and_(entry.c.kind.in_(GRANT_KINDS), entry.c.user_id.is_(None), *inside)
    return [
        _amount_sum(and_(entry.c.kind == EntryKind.CAPTURE.value, *inside)),
        _amount_sum(and_(entry.c.kind == HOLD, closing.c.id.is_(None), *inside)),
        _amount_sum(granted),
    ]


@lru_cache(maxsize=64)
def _windows_query(shape: tuple[tuple[bool, bool], ...]) -> Executable:
    """One SELECT summing every window of this shape ((is a user's, has a start) each); built
    once per shape so that SQLAlchemy compiles it once."""
    sums = [
        column for i, (user, since) in enumerate(shape) for column in _window_sums(i, user, since)
    ]
    query = select(*sums).select_from(entries_with_closing)
    query = query.where(entry.c.scope == bindparam("scope"))
    # Narrowed further only where no window needs the rows left out.
    if all(since for _, since in shape):
        query = query.where(entry.c.effective_at >= bindparam("floor"))
    if all(user for user, _ in shape):
        query = query.where(entry.c.user_id.in_(bindparam("users", expanding=True)))
    return query


def windows_usage(scope: str, windows: Sequence[Window]) -> tuple[Executable, dict[str, object]]:
    """(statement, parameters) giving one row: spent, held, granted for each window in turn,
    each equal to what `users_usage` (a user's window) or `pool_usage` (the pool's) gives."""
    params: dict[str, object] = {"scope": scope}
    for index, (user_id, since) in enumerate(windows):
        if user_id is not None:
            params[f"user_{index}"] = user_id
        if since is not None:
            params[f"since_{index}"] = since
    starts = [since for _, since in windows if since is not None]
    if len(starts) == len(windows):
        params["floor"] = min(starts)
    users = [user_id for user_id, _ in windows if user_id is not None]
    if len(users) == len(windows):
        params["users"] = sorted(set(users))
    shape = tuple((user_id is not None, since is not None) for user_id, since in windows)
    return _windows_query(shape), params


async def lock_scopes(connection: AsyncConnection, scopes: Sequence[str] | set[str]) -> None:
    """Serialize writers that change the room of these scopes, across replicas.

    PostgreSQL: a transaction-scoped advisory lock per scope (sorted, so two writers never wait
    on each other in opposite orders). Chosen over SERIALIZABLE because a burst of holds on one
    scope would mostly abort and retry there; the lock makes them queue, exactly once, and lets
    other scopes proceed in parallel. It covers the user caps and the pool of a scope at once.
    SQLite needs nothing here: every transaction begins IMMEDIATE (see storage.engine).
    """
    if connection.dialect.name != "postgresql":
        return
    for scope in sorted(set(scopes)):
        await connection.execute(_LOCK, {"scope": scope})
