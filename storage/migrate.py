"""Bring the schema to the newest alembic revision, on the connection storage opened with."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: replicas starting together take turns instead of racing the DDL.
MIGRATION_LOCK_KEY = 0x6C74_7862_6F74  # "ltxbot"


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Run every migration not yet applied, in one transaction (SQLite and PostgreSQL both
    have transactional DDL, so a failed upgrade leaves the schema as it was)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
