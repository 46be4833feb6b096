"""The policy store's writes: each dialect's upsert, and the audit entry that goes into the
same transaction as the change it records.

Upserts use each dialect's ON CONFLICT, so two admins setting the same cap at once both succeed
(the last one wins) instead of one failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import admin_audit

# The unique key of each upserted table.
CAP_KEYS = ["scope", "kind", "subject"]
RULE_KEYS = ["scope", "name"]
CHANNEL_KEYS = ["scope", "channel_id"]
DEFAULT_KEYS = ["scope", "channel_id", "option"]


def upsert(
    connection: AsyncConnection, table: Table, values: Mapping[str, object], keys: list[str]
) -> postgresql.Insert | sqlite.Insert:
    """Insert `values`, or update the row with the same `keys` (PostgreSQL or SQLite)."""
    changes = {name: value for name, value in values.items() if name not in keys}
    if connection.dialect.name == "postgresql":
        on_postgresql = postgresql.insert(table).values(**values)
        return on_postgresql.on_conflict_do_update(index_elements=keys, set_=changes)
    on_sqlite = sqlite.insert(table).values(**values)
    return on_sqlite.on_conflict_do_update(index_elements=keys, set_=changes)


async def write_audit(
    connection: AsyncConnection,
    scope: str,
    actor: str,
    action: str,
    detail: str,
    reason: str,
    at: datetime,
) -> int:
    """Append one audit entry inside the caller's transaction; returns its id."""
    insert = admin_audit.insert().values(
        scope=scope, actor=actor, action=action, detail=detail, reason=reason, created_at=at
    )
    # SQLAlchemy types inserted_primary_key as an optional Row.
    return int((await connection.execute(insert)).inserted_primary_key[0])  # type: ignore[index]
