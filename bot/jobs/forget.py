"""Forgetting a user: their sheets, videos and prompts go; the money they moved stays.

The files go first, then one storage transaction scrubs every job record (prompts blanked,
fal's answer and URLs dropped, `purged_at` set) and replaces the user's id by one pseudonym in
every table (`JobStore.forget_user`): the ledger keeps each amount under the pseudonym, so a
team's budgets, pool and reports add up the same before and after. Files first, because a
second run after a crash then finds the records still there and completes; records first
would leave files that no record names any more.

A job that has not ended (held, at fal, being delivered) is refused rather than raced; a job
waiting for its price confirmation or an approval holds nothing and is rejected first.
The pseudonym is random (`forgotten-` + 12 hex digits), not derived from the id, so nothing
in the database leads back to the user; a second run finds nothing left to rename.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from bot.errors import ConcurrentChange, UserError
from bot.jobs.record import FINAL, Job, JobState
from bot.jobs.retention import Retention, remove_files
from bot.model import Platform
from bot.ports import Clock, Forgetting, JobStore

log = logging.getLogger(__name__)
FORGOTTEN_PROMPT = "(forgotten)"  # the model requires a prompt: this stands in for it
ALL_JOBS = 1_000_000  # for_user's limit when every job of the user is wanted
RETRIES = 3  # a job record that changed under the transaction (rare: a retention mark)
RECEIVED = JobState.RECEIVED  # waiting for a person (price confirmation, approval): nothing held
Withdraw = Callable[[str], Awaitable[object]]  # an approval request of a rejected job


def new_pseudonym() -> str:
    return f"forgotten-{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class Who:
    """The user to forget: platform, the platform's scope id, the team key, the user id."""

    platform: Platform
    scope: str
    team: str
    user_id: str


@dataclass(frozen=True, slots=True)
class ForgetPlan:
    """What forgetting would remove (files still on disk, prompts not yet blanked)."""

    jobs: int
    videos: int
    sheets: int
    prompts: int
    running: tuple[str, ...]  # jobs not ended: forgetting refuses while there are any


@dataclass(frozen=True, slots=True)
class ForgetDone:
    pseudonym: str | None  # None: nothing named the user any more
    jobs: int
    files: int
    bytes: int
    renamed: int  # ledger entries, approvals, caps and audit rows now under the pseudonym


def scrub(job: Job, pseudonym: str, at: datetime) -> Job:
    """The record as it stays: the user renamed, their words and fal's copies of them gone."""
    origin = job.origin.model_copy(update={"user_id": pseudonym, "user_name": "", "out_path": None})
    request = job.request.model_copy(update={"prompt": FORGOTTEN_PROMPT, "negative_prompt": ""})
    result = job.result
    if result is not None:  # fal's answer echoes the prompt; its URLs serve the video publicly
        result = result.model_copy(update={"expanded_prompt": None, "raw": {}, "video_url": ""})
    return job.with_changes(
        at,
        origin=origin,
        request=request,
        result=result,
        sheet_url=None,
        purged_at=job.purged_at or at,
    )


class Forget:
    def __init__(
        self,
        *,
        jobs: JobStore,
        retention: Retention,
        clock: Clock,
        withdraw: Withdraw,
        pseudonym: Callable[[], str] = new_pseudonym,
    ) -> None:
        self._jobs, self._retention, self._clock = jobs, retention, clock
        self._withdraw, self._pseudonym = withdraw, pseudonym

    async def plan(self, who: Who) -> ForgetPlan:
        """What `forget` would remove now."""
        jobs = await self._all(who)
        videos = sheets = 0
        for job in jobs:
            video, sheet = await asyncio.to_thread(self._present, job)
            videos, sheets = videos + video, sheets + sheet
        prompts = sum(1 for job in jobs if job.request.prompt != FORGOTTEN_PROMPT)
        running = tuple(j.id for j in jobs if j.state not in FINAL and j.state is not RECEIVED)
        return ForgetPlan(len(jobs), videos, sheets, prompts, running)

    async def forget(self, who: Who, *, by: str) -> ForgetDone:
        """Remove the user's files and prompts and rename them; UserError while a job runs.
        `by`: the admin, for the audit entry (the pseudonym when they forget themselves)."""
        jobs = await self._all(who)
        refuse_running(who, [j.id for j in jobs if j.state not in FINAL | {RECEIVED}])
        for job in jobs:
            if job.state is RECEIVED:  # waits for a confirmation or an approval; nothing held
                ended = job.advance(JobState.REJECTED, self._clock(), failure="user forgotten")
                await self._jobs.replace(ended)
                await self._withdraw(job.id)
        files, freed = await self._remove_files(await self._all(who))
        pseudonym = self._pseudonym()
        for _ in range(RETRIES):
            at = self._clock()
            forgetting = Forgetting(
                platform=who.platform,
                scope=who.scope,
                team=who.team,
                user_id=who.user_id,
                pseudonym=pseudonym,
                by=by if by != who.user_id else pseudonym,
                detail=f"forgot a user: their sheets, videos and prompts; now {pseudonym}",
                at=at,
                scrub=partial(scrub, pseudonym=pseudonym, at=at),
            )
            try:
                outcome = await self._jobs.forget_user(forgetting)
            except ConcurrentChange:  # rolled back: read again and retry
                continue
            refuse_running(who, list(outcome.unfinished))
            known = bool(outcome.jobs or outcome.renamed)
            if known:  # the pseudonym only: the id being forgotten stays out of the logs too
                log.info(
                    "forgot a user of %s as %s: %d jobs, %d files, %d other rows",
                    who.team, pseudonym, len(outcome.jobs), files, outcome.renamed,
                )  # fmt: skip
            return ForgetDone(
                pseudonym if known else None, len(outcome.jobs), files, freed, outcome.renamed
            )
        raise RuntimeError(f"could not forget a user of {who.team}: their jobs kept changing")

    async def _all(self, who: Who) -> list[Job]:
        return await self._jobs.for_user(
            platform=who.platform, scope=who.scope, user_id=who.user_id, limit=ALL_JOBS
        )

    def _present(self, job: Job) -> tuple[bool, bool]:
        paths = self._retention.files_of(job)
        video = any(p.exists() for p in paths if p.suffix == ".mp4")
        sheet = any(p.exists() for p in paths if p.suffix != ".mp4")
        return video, sheet

    async def _remove_files(self, jobs: list[Job]) -> tuple[int, int]:
        keep = await self._retention.kept_paths()
        paths = [p for job in jobs for p in self._retention.files_of(job) if str(p) not in keep]
        cache = self._retention.content_cache
        return await asyncio.to_thread(_remove_with_cached_copies, paths, cache)


def refuse_running(who: Who, running: Iterable[str]) -> None:
    ids = ", ".join(f"`{job_id}`" for job_id in running)
    if ids:
        raise UserError(
            f"This user has a job running ({ids}); cancel it or wait until it ends, then "
            "forget them."
        )


def _remove_with_cached_copies(paths: list[Path], cache: Path) -> tuple[int, int]:
    """The files, and the clean copies kept by content that are the same file (same inode):
    another job's own link to the same picture stays, only the cache's goes."""
    inodes: set[tuple[int, int]] = set()
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            continue
        inodes.add((status.st_dev, status.st_ino))
    cached: list[Path] = []
    try:
        entries = list(os.scandir(cache))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        status = entry.stat(follow_symlinks=False)
        if (status.st_dev, status.st_ino) in inodes:
            cached.append(Path(entry.path))
    return remove_files(paths + cached)
