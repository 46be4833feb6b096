"""`bot.ports.SavedSheetStore` on SQLAlchemy Core (SQLite and PostgreSQL).

Saving a taken name is one `INSERT ... ON CONFLICT (scope, name) DO UPDATE ... WHERE saved_by
= excluded.saved_by RETURNING`: the database decides whether this saver may replace it, so a
read and a write never straddle an await. A delete is one `DELETE ... RETURNING` likewise.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import SavedSheet
from storage.engine import single_statement_reads
from storage.tables import saved_sheets

table = saved_sheets


def _sheet(row: Row[Any]) -> SavedSheet:  # Any: SQLAlchemy types a Table's rows Row[Any]
    return SavedSheet(
        scope=row.scope,
        name=row.name,
        sha256=row.sha256,
        width=int(row.width),
        height=int(row.height),
        prompt_prefix=row.prompt_prefix,
        saved_by=row.saved_by,
        saved_by_name=row.saved_by_name,
        saved_at=row.saved_at,
    )


class SqlSavedSheetStore:
    """Saved sheets of every scope, one row per (scope, name)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = single_statement_reads(engine)  # one SELECT each, no write lock

    async def save(self, *, sheet: SavedSheet, replace_anyones: bool = False) -> bool:
        values = {
            "scope": sheet.scope,
            "name": sheet.name,
            "sha256": sheet.sha256,
            "width": sheet.width,
            "height": sheet.height,
            "prompt_prefix": sheet.prompt_prefix,
            "saved_by": sheet.saved_by,
            "saved_by_name": sheet.saved_by_name,
            "saved_at": sheet.saved_at,
        }
        async with self._engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement: postgresql.Insert | sqlite.Insert = dialect.insert(table).values(values)
            changes = {k: statement.excluded[k] for k in values if k not in ("scope", "name")}
            only_if = None if replace_anyones else table.c.saved_by == statement.excluded.saved_by
            upsert = statement.on_conflict_do_update(
                index_elements=[table.c.scope, table.c.name], set_=changes, where=only_if
            )
            result = await connection.execute(upsert.returning(table.c.name))
            return result.first() is not None

    async def find(self, *, scope: str, name: str) -> SavedSheet | None:
        query = select(table).where(table.c.scope == scope, table.c.name == name)
        async with self._reads.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _sheet(row)

    async def in_scope(self, *, scope: str) -> list[SavedSheet]:
        query = select(table).where(table.c.scope == scope).order_by(table.c.name)
        async with self._reads.connect() as connection:
            return [_sheet(row) for row in await connection.execute(query)]

    async def delete(self, *, scope: str, name: str, by: str | None) -> SavedSheet | None:
        statement = delete(table).where(table.c.scope == scope, table.c.name == name)
        if by is not None:
            statement = statement.where(table.c.saved_by == by)
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement.returning(*table.c))).first()
        return None if row is None else _sheet(row)

    async def uses(self, *, sha256: str) -> int:
        query = select(func.count()).select_from(table).where(table.c.sha256 == sha256)
        async with self._reads.connect() as connection:
            return int((await connection.execute(query)).scalar_one())
