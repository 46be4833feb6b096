"""A graceful stop: every job task is cancelled, except those in a step that must not be cut.

Two steps are let finish (for up to a grace period, then cancelled too): the submit POST (cut,
fal may have queued the job without its request id stored, so the job could only fail
honestly on resume) and the post of a finished video (cut between the platform's post and the
stored DELIVERED, it could be posted again). Anything else resumes from its stored state on
whichever replica takes the job over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 5.0  # of the 10 s a stopping replica has (SIGTERM to exit)


class UncutSteps:
    """Which jobs are in a step a stop lets finish."""

    def __init__(self) -> None:
        self._jobs: set[str] = set()

    @contextmanager
    def step(self, job_id: str) -> Iterator[None]:
        """Mark the job's step as one to finish before stopping."""
        self._jobs.add(job_id)
        try:
            yield
        finally:
            self._jobs.discard(job_id)

    async def stop(
        self, tasks: Mapping[str, asyncio.Task[None]], *, grace: float = STOP_GRACE_SECONDS
    ) -> None:
        """Cancel every task but those mid-step; give those `grace` seconds, then cancel."""
        everything = dict(tasks)
        finishing = [task for job_id, task in everything.items() if job_id in self._jobs]
        for job_id, task in everything.items():
            if job_id not in self._jobs:
                task.cancel()
        if finishing:
            log.info("stopping: letting %d submits or posts finish", len(finishing))
            _, late = await asyncio.wait(finishing, timeout=grace)
            for task in late:
                log.warning("stopping: %s did not finish in %.0f s", task.get_name(), grace)
                task.cancel()
        await asyncio.gather(*everything.values(), return_exceptions=True)
