"""Running balances: what admission reads instead of summing a period's ledger entries.

One row per (scope, subject, window start): the user's (or, subject "", the team pool's) spent,
held, granted and count of open holds over the entries effective from the window start on,
counted exactly as storage.usage sums them (a user's row: that user's entries and grants; the
pool's: every user's entries, the pool's grants). A cap with no window reads the row starting
at EPOCH. Admission asks for each cap's (subject, start) in one indexed read; a row it asks for
that does not exist yet (a new period, a new user) is back-filled from the entries once, then
kept by every writer of an entry *in the entry's transaction*: a write of an entry effective at
`t` changes the subject's rows (and the pool's) whose window starts at or before `t`.

Every writer and every back-fill runs under the scope's lock (`lock_scopes`; SQLite's IMMEDIATE
transactions), so a back-fill never misses an entry a concurrent writer has not committed yet.
A back-fill retires the subject's windows that began more than RETIRED_AFTER before it (no
period is longer than a month): the rows a write touches stay few however long the history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Executable,
    and_,
    bindparam,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import EntryKind
from storage.tables import EPOCH, POOL_SUBJECT, admission_balances
from storage.usage import GRANT_KINDS, HOLD, closing, entries_with_closing, entry

balance = admission_balances
RETIRED_AFTER = timedelta(days=32)
BalanceKey = tuple[str, datetime]  # (subject, window start) within one scope
Sums = list[int]  # spent, held, granted, open holds


def subject_of(user_id: str | None) -> str:
    return POOL_SUBJECT if user_id is None else user_id


def start_of(since: datetime | None) -> datetime:
    return EPOCH if since is None else since


@dataclass(frozen=True, slots=True)
class Change:
    """What one ledger entry changes: its user's money (the user's rows and the pool's) and,
    for a grant, the granted room of its user (or of the pool, `user_id` None)."""

    scope: str
    user_id: str | None
    effective_at: datetime
    spent: int = 0
    held: int = 0
    granted: int = 0
    open_holds: int = 0


_read = select(
    balance.c.subject,
    balance.c.window_start,
    balance.c.spent,
    balance.c.held,
    balance.c.granted,
    balance.c.open_holds,
).where(
    balance.c.scope == bindparam("scope"),
    balance.c.subject.in_(bindparam("subjects", expanding=True)),
    balance.c.window_start.in_(bindparam("starts", expanding=True)),
)
_bump = (
    update(balance)
    .where(
        balance.c.scope == bindparam("b_scope"),
        balance.c.subject == bindparam("b_subject"),
        balance.c.window_start <= bindparam("b_at", type_=balance.c.window_start.type),
    )
    .values(
        spent=balance.c.spent + bindparam("d_spent", type_=balance.c.spent.type),
        held=balance.c.held + bindparam("d_held", type_=balance.c.held.type),
        granted=balance.c.granted + bindparam("d_granted", type_=balance.c.granted.type),
        open_holds=balance.c.open_holds + bindparam("d_open", type_=balance.c.open_holds.type),
    )
)
_retire = delete(balance).where(
    balance.c.scope == bindparam("scope"),
    balance.c.subject == bindparam("subject"),
    balance.c.window_start > bindparam("epoch", type_=balance.c.window_start.type),
    balance.c.window_start < bindparam("before", type_=balance.c.window_start.type),
)
_insert = balance.insert()


def _sum(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, entry.c.amount), else_=0)), 0)


def _backfill_query(pool: bool) -> Executable:
    open_hold = and_(entry.c.kind == HOLD, closing.c.id.is_(None))
    granted: ColumnElement[bool] = entry.c.kind.in_(GRANT_KINDS)
    where: list[ColumnElement[bool]] = [
        entry.c.scope == bindparam("scope"),
        entry.c.effective_at >= bindparam("start", type_=entry.c.effective_at.type),
    ]
    if pool:
        granted = and_(granted, entry.c.user_id.is_(None))
    else:
        where.append(entry.c.user_id == bindparam("user"))
    return (
        select(
            _sum(entry.c.kind == EntryKind.CAPTURE.value),
            _sum(open_hold),
            _sum(granted),
            func.count(case((open_hold, 1))),
        )
        .select_from(entries_with_closing)
        .where(*where)
    )


_BACKFILL = {pool: _backfill_query(pool) for pool in (False, True)}


async def summed(connection: AsyncConnection, scope: str, key: BalanceKey) -> Sums:
    """A balance as the entries add it up (what a back-fill writes, what a drift check
    compares with)."""
    subject, start = key
    params: dict[str, object] = {"scope": scope, "start": start}
    if subject != POOL_SUBJECT:
        params["user"] = subject
    row = (await connection.execute(_BACKFILL[subject == POOL_SUBJECT], params)).one()
    return [int(value) for value in row]


async def read(
    connection: AsyncConnection, scope: str, keys: Collection[BalanceKey]
) -> dict[BalanceKey, Sums]:
    """The scope's balances for these (subject, start) keys, back-filling the missing ones
    (call under the scope's lock)."""
    if not keys:
        return {}
    params = {
        "scope": scope,
        "subjects": sorted({subject for subject, _ in keys}),
        "starts": sorted({start for _, start in keys}),
    }
    found: dict[BalanceKey, Sums] = {}
    for row in await connection.execute(_read, params):
        found[(row.subject, row.window_start)] = [
            int(row.spent),
            int(row.held),
            int(row.granted),
            int(row.open_holds),
        ]
    missing = sorted(set(keys) - found.keys())
    for subject, start in missing:
        sums = await summed(connection, scope, (subject, start))
        if start != EPOCH:
            retire = {"scope": scope, "subject": subject, "epoch": EPOCH}
            await connection.execute(_retire, {**retire, "before": start - RETIRED_AFTER})
        found[(subject, start)] = sums
    if missing:
        await connection.execute(
            _insert,
            [
                {
                    "scope": scope,
                    "subject": subject,
                    "window_start": start,
                    "spent": found[(subject, start)][0],
                    "held": found[(subject, start)][1],
                    "granted": found[(subject, start)][2],
                    "open_holds": found[(subject, start)][3],
                }
                for subject, start in missing
            ],
        )
    return {key: found[key] for key in keys}


def _bumps(changes: Iterable[Change]) -> list[dict[str, object]]:
    """One UPDATE's parameters per (scope, subject, moment), the changes to it added up."""
    merged: dict[tuple[str, str, datetime], list[int]] = {}

    def add(scope: str, subject: str, at: datetime, values: Sequence[int]) -> None:
        sums = merged.setdefault((scope, subject, at), [0, 0, 0, 0])
        for index, value in enumerate(values):
            sums[index] += value

    for change in changes:
        money = (change.spent, change.held, 0, change.open_holds)
        if any(money):
            if change.user_id is not None:
                add(change.scope, change.user_id, change.effective_at, money)
            add(change.scope, POOL_SUBJECT, change.effective_at, money)
        if change.granted:
            add(
                change.scope,
                subject_of(change.user_id),
                change.effective_at,
                (0, 0, change.granted, 0),
            )
    return [
        {
            "b_scope": scope,
            "b_subject": subject,
            "b_at": at,
            "d_spent": sums[0],
            "d_held": sums[1],
            "d_granted": sums[2],
            "d_open": sums[3],
        }
        for (scope, subject, at), sums in merged.items()
    ]


async def apply(connection: AsyncConnection, changes: Iterable[Change]) -> None:
    """Add the entries just written to every balance that counts them, in the caller's
    transaction (which holds the scopes' locks)."""
    params = _bumps(changes)
    if params:
        await connection.execute(_bump, params)


async def drift(connection: AsyncConnection) -> list[str]:
    """Every balance that differs from what its entries add up to, described (empty: none)."""
    rows = (await connection.execute(select(balance).order_by(*balance.primary_key))).all()
    problems = []
    for row in rows:
        stored = [int(row.spent), int(row.held), int(row.granted), int(row.open_holds)]
        actual = await summed(connection, row.scope, (row.subject, row.window_start))
        if stored != actual:
            who = row.subject or "the pool"
            problems.append(
                f"{row.scope} {who} since {row.window_start.isoformat()}: balance "
                f"(spent, held, granted, open) {stored}, entries {actual}"
            )
    return problems
