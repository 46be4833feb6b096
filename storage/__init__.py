"""Storage for ltxbot: the money ledger, the job records and shared key-value records (Slack
installations, OAuth state, "already handled" claims) and the job leases (which replica drives
which job), on SQLite or PostgreSQL.

    storage = await open_storage("sqlite:///data/ltxbot.sqlite3")  # or postgresql://...
    outcome = await storage.ledger.hold(job_id=..., ...)
    await storage.close()

One SQLAlchemy Core implementation serves both databases; alembic migrations run on open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.jobs.signals import LocalJobSignals
from storage.engine import create_engine, driver_url
from storage.jobs import SqlJobStore
from storage.keyvalue import SqlKeyValueStore
from storage.leases import SqlJobLeases
from storage.ledger import SqlLedger
from storage.migrate import upgrade_to_head
from storage.policy import SqlPolicyStore
from storage.saved_sheets import SqlSavedSheetStore
from storage.signals import PostgresJobSignals

__all__ = [
    "PostgresJobSignals",
    "SqlJobLeases",
    "SqlJobStore",
    "SqlKeyValueStore",
    "SqlLedger",
    "SqlPolicyStore",
    "SqlSavedSheetStore",
    "Storage",
    "open_storage",
]


@dataclass(frozen=True, slots=True)
class Storage:
    """An open database: the ledger, the job store, the budget policy, the key-value store and
    the job leases and the saved sheets over one pool."""

    url: str = field(repr=False)  # may carry a password
    ledger: SqlLedger
    jobs: SqlJobStore
    engine: AsyncEngine
    policy: SqlPolicyStore
    keyvalue: SqlKeyValueStore
    leases: SqlJobLeases
    saved_sheets: SqlSavedSheetStore
    # Waking a job's driver: LISTEN/NOTIFY on PostgreSQL, in-process calls on SQLite.
    signals: PostgresJobSignals | LocalJobSignals

    async def close(self) -> None:
        """Stop every task the stores started, then close every pooled connection; the
        storage is unusable afterwards."""
        try:
            await self.signals.close()
            await self.ledger.close()
            await self.policy.close()
        finally:
            await self.engine.dispose()


async def open_storage(url: str) -> Storage:
    """Open `sqlite:///path/file.sqlite3` (parent folder created) or `postgresql://user@host:
    port/db` (also `postgres://`, optionally `?search_path=schema`), migrated to the newest
    schema."""
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    except BaseException:
        await engine.dispose()
        raise
    return Storage(
        url=url,
        ledger=SqlLedger(engine),
        jobs=SqlJobStore(engine),
        engine=engine,
        policy=SqlPolicyStore(engine),
        keyvalue=SqlKeyValueStore(engine),
        leases=SqlJobLeases(engine),
        saved_sheets=SqlSavedSheetStore(engine),
        signals=(
            PostgresJobSignals(engine, driver_url(url))
            if engine.dialect.name == "postgresql"
            else LocalJobSignals()
        ),
    )
