"""`bot.ports.KeyValueStore` on SQLAlchemy Core: records and one-time claims every replica shares.

A claim is one statement, `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expired RETURNING`,
on both databases: the key's primary key decides, so of any number of racing replicas exactly
one gets a row back (PostgreSQL re-checks the WHERE on the row the winner committed; SQLite
runs one writer at a time). Expiry is wall-clock time from an injected clock, so a claim also
survives a restart, and tests move time instead of waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Insert, and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import Clock
from storage.tables import KEY_LENGTH, key_values

SWEEP_EVERY = 256  # writes between two sweeps of expired rows (each Slack request writes one)
kv = key_values


def utc_now() -> datetime:
    return datetime.now(UTC)


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(kv.c.expires_at.is_(None), kv.c.expires_at > now)


def _expired(now: datetime) -> ColumnElement[bool]:
    return and_(kv.c.expires_at.is_not(None), kv.c.expires_at <= now)


def _count_live(expiries: Sequence[datetime | None], now: datetime) -> int:
    return sum(1 for end in expiries if end is None or end > now)


class SqlKeyValueStore:
    """Named records that may expire, and one-time claims, in the `key_values` table."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock = utc_now, *, sweep_every: int = SWEEP_EVERY
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._sweep_every = sweep_every
        self._writes = 0

    async def load(self, *, key: str) -> str | None:
        """The value stored under `key`, or None (also once it has expired)."""
        query = select(kv.c.value).where(kv.c.key == _checked(key), _live(self._clock()))
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def save(self, *, key: str, value: str, ttl_seconds: float | None = None) -> None:
        """Store or replace `value` under `key`; it disappears after `ttl_seconds` if given."""
        now = self._clock()
        async with self._engine.begin() as connection:
            await connection.execute(_upsert(connection, key, value, _expiry(now, ttl_seconds)))
            await self._sweep_now_and_then(connection, now)

    async def claim(self, *, key: str, value: str = "", ttl_seconds: float | None = None) -> bool:
        """Store `value` only if `key` is absent or expired: True for the one caller that got it,
        however many tasks or replicas race for it."""
        now = self._clock()
        async with self._engine.begin() as connection:
            # An expired row is taken over in place; a live one makes the update (and so the
            # RETURNING) empty. Never a read, then a write: another replica may sit in between.
            statement = _upsert(
                connection, key, value, _expiry(now, ttl_seconds), only_if=_expired(now)
            )
            won = (await connection.execute(statement.returning(kv.c.key))).first() is not None
            await self._sweep_now_and_then(connection, now)
        return won

    async def discard(self, *, key: str) -> bool:
        """Remove `key`; True if it was there and live (so two replicas consuming one OAuth
        state cannot both succeed: the second deletes nothing)."""
        statement = delete(kv).where(kv.c.key == _checked(key)).returning(kv.c.expires_at)
        async with self._engine.begin() as connection:
            expiries = (await connection.execute(statement)).scalars().all()
        return _count_live(expiries, self._clock()) == 1

    async def discard_prefix(self, *, prefix: str) -> int:
        """Remove every key starting with `prefix`; returns how many live ones went."""
        # substr rather than LIKE: SQLite's LIKE ignores case and both treat % and _ as wildcards.
        match = func.substr(kv.c.key, 1, len(prefix)) == prefix
        statement = delete(kv).where(match).returning(kv.c.expires_at)
        async with self._engine.begin() as connection:
            expiries = (await connection.execute(statement)).scalars().all()
        return _count_live(expiries, self._clock())

    async def items(self, *, prefix: str) -> list[tuple[str, str]]:
        """Every live (key, value) whose key starts with `prefix`, by key."""
        match = func.substr(kv.c.key, 1, len(prefix)) == prefix
        query = select(kv.c.key, kv.c.value).where(match, _live(self._clock())).order_by(kv.c.key)
        async with self._engine.connect() as connection:
            return [(str(k), str(v)) for k, v in (await connection.execute(query)).all()]

    async def purge_expired(self) -> int:
        """Delete every expired row now; returns how many (writes also do this now and then)."""
        async with self._engine.begin() as connection:
            return await _purge(connection, self._clock())

    async def _sweep_now_and_then(self, connection: AsyncConnection, now: datetime) -> None:
        # Expired rows are invisible already; this only keeps the table from growing forever.
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            await _purge(connection, now)


async def _purge(connection: AsyncConnection, now: datetime) -> int:
    result = await connection.execute(delete(kv).where(_expired(now)).returning(kv.c.key))
    return len(result.all())


def _upsert(
    connection: AsyncConnection,
    key: str,
    value: str,
    expires_at: datetime | None,
    *,
    only_if: ColumnElement[bool] | None = None,
) -> Insert:
    """Insert the row, or replace the stored one (only when `only_if` holds for it, if given)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement: postgresql.Insert | sqlite.Insert = dialect.insert(kv).values(
        key=_checked(key), value=value, expires_at=expires_at
    )
    changes = {"value": statement.excluded.value, "expires_at": statement.excluded.expires_at}
    return statement.on_conflict_do_update(index_elements=[kv.c.key], set_=changes, where=only_if)


def _expiry(now: datetime, ttl_seconds: float | None) -> datetime | None:
    return None if ttl_seconds is None else now + timedelta(seconds=ttl_seconds)


def _checked(key: str) -> str:
    # PostgreSQL would refuse a longer key and SQLite would keep it: refuse it on both, alike.
    if not key or len(key) > KEY_LENGTH:
        raise ValueError(f"a key must have 1 to {KEY_LENGTH} characters, not {len(key)}")
    return key
