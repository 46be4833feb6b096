"""The policy store's writes: each dialect's upsert, and the audit entry that goes into the
same transaction as the change it records.

Upserts use each dialect's ON CONFLICT, so two admins setting the same cap at once both succeed
(the last one wins) instead of one failing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import admin_audit

# The unique key of each upserted table.
CAP_KEYS = ["scope", "kind", "subject"]
RULE_KEYS = ["scope", "name"]
CHANNEL_KEYS = ["scope", "channel_id"]
DEFAULT_KEYS = ["scope", "channel_id", "option"]


def upsert(connection: AsyncConnection, table: Any, values: dict[str, Any], keys: list[str]) -> Any:
    """Insert `values`, or update the row with the same `keys` (PostgreSQL or SQLite)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    changes = {name: value for name, value in values.items() if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changes)


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
