"""Bring the schema to the newest alembic revision, on the connection storage opened with."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import StorageUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: replicas starting together take turns instead of racing the DDL.
MIGRATION_LOCK_KEY = 0x6C74_7862_6F74  # "ltxbot"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision of the migrations shipped (reads the files: call it off the loop)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


async def schema_problem(engine: AsyncEngine, head: str, timeout: float = 3.0) -> str | None:
    """None when the database answers and its schema is at `head`; else a short reason
    (no URL, no password: it is served to anyone who asks /readyz)."""
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            try:
                found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            except DBAPIError as error:
                if error.connection_invalidated:  # the server went away
                    return "database unreachable"
                return "database schema not migrated"  # it answered: no alembic_version
            versions = set(found.scalars().all())
    except TimeoutError:
        return "database not answering"
    except (OSError, SQLAlchemyError, StorageUnavailable):  # refused, dropped (storage.engine)
        return "database unreachable"
    if versions != {head}:
        return "database schema not migrated"
    return None


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Run every migration not yet applied, in one transaction (SQLite and PostgreSQL both
    have transactional DDL, so a failed upgrade leaves the schema as it was)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
