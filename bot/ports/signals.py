"""`JobSignals`: wake the replica that drives a job when another one learned something about it.

Behind a load balancer a fal webhook or a cancel lands on any replica. That replica stores
what it learned in the job's record, then `notify`s; every listening replica hears the job id,
and the one driving that job wakes its follower, which re-reads the stored job at once instead
of at its next look. A signal carries no state (only the id): a lost one costs a wait, never a
wrong decision, because the record is the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# Called with a job id for each signal, or with None after a gap in listening (a reconnect)
# during which signals may have been missed: then every job driven here should be re-read.
OnSignal = Callable[[str | None], None]


class JobSignals(Protocol):
    async def notify(self, job_id: str) -> None:
        """Tell every listening replica (this one too) that the job's record changed; called
        right after the write that changed it. Raises when the database cannot be reached."""
        ...

    async def listen(self, on_signal: OnSignal) -> None:
        """Start calling `on_signal` (synchronously, on the event loop) for every signal,
        until `close`; keeps listening across dropped connections."""
        ...

    async def close(self) -> None:
        """Stop listening; no `on_signal` call comes after it returns."""
        ...
