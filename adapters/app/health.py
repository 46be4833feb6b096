"""For `ltxbot doctor`: the checks only the composition root can make (it alone opens storage)."""

from __future__ import annotations

from adapters.app.storage_open import open_database, shown_url
from bot.settings import Settings


async def database_ready(settings: Settings) -> tuple[str, list[str]]:
    """Open the configured database (migrating it to the newest schema, as every command
    does) and close it; what was reached, and every running balance admission reads that no
    longer equals its ledger entries (storage.balances; none: empty). Raises
    ConfigurationError naming the setting."""
    storage = await open_database(settings.database)
    try:
        drift = await storage.ledger.balance_drift()
    finally:
        await storage.close()
    return f"{shown_url(settings.database)}: reachable, schema up to date", drift
