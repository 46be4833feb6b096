"""`JobObserver`: who wants to know as jobs change state and money moves (metrics, for one).

The core calls it from its observing stores (`bot.jobs.observed`), after each write that
stored; an observer only looks (counts, times) and must not raise or block. It carries the
stored records themselves, so nothing about the user has to be copied out to it: what an
observer keeps of them (never ids, prompts or scopes in a metric label) is its own care.
"""

from __future__ import annotations

from typing import Protocol

from bot.jobs.record import Job, JobState
from bot.money import Money
from bot.ports.ledger import EntryKind


class JobObserver(Protocol):
    def job_changed(self, job: Job, before: JobState | None) -> None:
        """`job` was stored in a new state; `before` is the state it left (None: new job)."""
        ...

    def money_moved(self, kind: EntryKind, amount: Money) -> None:
        """A hold, capture or release was written (replays, which write nothing, are not)."""
        ...
