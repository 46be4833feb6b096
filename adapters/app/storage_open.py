"""Opening the configured database, with every way it can fail as one line naming the setting.

An unparsable URL, an unknown scheme, a server that cannot be reached, a database that does
not exist or refuses us: each becomes a ConfigurationError naming LTXBOT_DATABASE_URL (the
URL shown without its password), so the terminal prints one line instead of a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.errors import ConfigurationError, StorageUnavailable

if TYPE_CHECKING:
    from storage import Storage

SETTING = "setting LTXBOT_DATABASE_URL"
FORMS = "use sqlite:///path/file.sqlite3 or postgresql://user@host:5432/db"


async def open_database(url: str) -> Storage:
    from storage import open_storage

    try:
        return await open_storage(url)
    except (ArgumentError, ValueError):
        raise ConfigurationError(f"{SETTING}: cannot be read as a database URL; {FORMS}") from None
    except (OSError, StorageUnavailable) as problem:  # refused, no such host, timed out
        cause = problem.__cause__ if isinstance(problem, StorageUnavailable) else problem
        reason = getattr(cause, "strerror", None) or type(cause).__name__
        raise ConfigurationError(
            f"{SETTING}: cannot reach the database at {shown_url(url)} ({reason})"
        ) from None
    except DBAPIError as problem:  # the server answered: no such database, bad password, ...
        said = str(problem.orig).strip().splitlines()[0] if problem.orig else "refused"
        raise ConfigurationError(f"{SETTING}: {shown_url(url)}: {said}") from None


def shown_url(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"
