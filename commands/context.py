"""What a command handler may use: the core's services, injected once at start-up."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.budget.budgets import Budgets
from bot.events import Cancelled, StopAsked
from bot.jobs.record import Job
from bot.jobs.retention import Retention
from bot.model import Platform
from bot.ports import Clock, FalBilling, JobStore, Ledger, Poster, SavedSheetStore
from bot.request import MAX_SEED
from bot.settings import Settings

_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: ids get typed by hand


def new_job_id() -> str:
    """Short, typeable, unguessable enough for a chat: 10 characters, ~49 bits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def job_id_for(key: str) -> str:
    """The job id of a request known by `key` before it is taken in (a Slack form's view id):
    the same every time, so a second run of the same request finds its job stored."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "big")
    letters = []
    for _ in range(10):
        digest, index = divmod(digest, len(_ID_ALPHABET))
        letters.append(_ID_ALPHABET[index])
    return "".join(letters)


def new_seed() -> int:
    """A seed for a take the user gave none for (each take's seed is known before submit)."""
    return secrets.randbelow(MAX_SEED + 1)


class JobRunner(Protocol):
    """The part of `bot.jobs.supervisor.Supervisor` the commands use."""

    async def start(self, job: Job) -> None: ...

    async def cancel(self, job_id: str) -> Cancelled | StopAsked | None: ...


@dataclass
class Services:
    settings: Settings
    jobs: JobStore
    ledger: Ledger
    budgets: Budgets
    runner: JobRunner
    clock: Clock
    simulated: bool
    saved_sheets: SavedSheetStore  # the team's named sheets (`commands.sheets`)
    new_id: Callable[[], str] = new_job_id
    new_seed: Callable[[], int] = new_seed
    # Each platform's Poster, filled in as adapters start (the same dict as Core.posters):
    # commands post outside a job through it (approval requests, the admin channel's alerts).
    posters: MutableMapping[Platform, Poster] = field(default_factory=dict)
    # fal's own bill (its platform API), for `admin reconcile`; None without an admin key.
    billing: FalBilling | None = None
    sheets_dir: Path = field(init=False)
    retention: Retention = field(init=False)  # files past LTXBOT_RETENTION_DAYS leave the disk

    def __post_init__(self) -> None:
        self.sheets_dir = self.settings.data_dir / "sheets"
        self.retention = Retention(
            jobs=self.jobs,
            data_dir=self.settings.data_dir,
            clock=self.clock,
            days=self.settings.retention_days,
        )
