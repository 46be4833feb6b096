"""For `ltxbot doctor`: the checks only the composition root can make (it alone opens storage)."""

from __future__ import annotations

from adapters.app.storage_open import open_database, shown_url
from bot.settings import Settings


async def database_ready(settings: Settings) -> str:
    """Open the configured database (migrating it to the newest schema, as every command
    does) and close it; what was reached. Raises ConfigurationError naming the setting."""
    storage = await open_database(settings.database)
    await storage.close()
    return f"{shown_url(settings.database)}: reachable, schema up to date"
