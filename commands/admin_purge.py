"""`admin purge`: remove now the sheets and videos that retention would remove later.

The terminal runs where the files are, so there it purges every team's; in a chat an admin
purges only their own team's jobs (one team's admin cannot empty another's). The job records
and the ledger stay.
"""

from __future__ import annotations

from bot.errors import UserError
from bot.jobs.retention import Purged
from bot.model import Invocation, Platform, Reply
from commands.admin import require_admin
from commands.context import Services

MAX_DAYS = 3650


def _days(invocation: Invocation) -> int | None:
    value = invocation.options.get("older_than")
    if value is None or str(value).strip() == "":
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        days = -1
    if not 0 <= days <= MAX_DAYS:
        raise UserError(f"`older_than` takes a whole number of days from 0 to {MAX_DAYS}.")
    return days


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    amount, unit = count / 1000, "KB"
    for bigger in ("MB", "GB"):
        if amount < 1000:
            break
        amount, unit = amount / 1000, bigger
    return f"{amount:.1f} {unit}"


def _text(purged: Purged, everyone: bool) -> str:
    whose = "" if everyone else " of this team"
    if not purged.files and not purged.jobs:
        return (
            f"Nothing to remove: no files{whose} from jobs that ended more than "
            f"{purged.older_than_days} days ago."
        )
    return (
        f"Removed {purged.files} files ({_size(purged.bytes)} freed) of {purged.jobs} jobs"
        f"{whose} that ended more than {purged.older_than_days} days ago. Their records and "
        "the ledger stay; `show` says the files were removed."
    )


async def admin_purge(invocation: Invocation, services: Services) -> Reply:
    """Files of ended jobs older than `older_than` days (default: the setting) leave the disk."""
    actor = invocation.actor
    require_admin(actor)
    everyone = invocation.place.platform is Platform.CONSOLE
    scope = None if everyone else (actor.platform, actor.scope)
    purged = await services.retention.purge(older_than_days=_days(invocation), scope=scope)
    data = {
        "older_than_days": purged.older_than_days,
        "scope": "all" if everyone else actor.scope_key,
        "jobs": purged.jobs,
        "files": purged.files,
        "bytes": purged.bytes,
    }
    return Reply(text=_text(purged, everyone), data=data)
