"""Retention: a job's sheet and video leave the disk some days after the job ended.

The record stays (marked `purged_at`, so `show` and the buttons can say so), and so does the
ledger. Only ended jobs lose files: a job still held, at fal or waiting for its delivery keeps
them, and a path such a job names is never removed even when an older job names it too (a
reroll made before rerolls had their own link). Only files under the data dir's `sheets/` and
`videos/` are touched, never a `--out` copy. A sheet is hard-linked by every job that uses it
(`bot.media.sheet_files`), so its bytes are freed when its last job lets go; the clean copy kept
by content (`sheets/by-content/`) goes once no job links it and it is past the same age.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.jobs.record import FINAL, Job, JobState
from bot.media.composed_sheets import expired_composed
from bot.media.sheet_files import original_of
from bot.model import Platform
from bot.ports import Clock, JobStore

log = logging.getLogger(__name__)
BATCH = 100


@dataclass(frozen=True, slots=True)
class Purged:
    """What one purge removed."""

    older_than_days: int
    jobs: int = 0
    files: int = 0
    bytes: int = 0  # freed: a file other links still hold frees nothing yet


class Retention:
    def __init__(self, *, jobs: JobStore, data_dir: Path, clock: Clock, days: int) -> None:
        self._jobs, self._clock, self.days = jobs, clock, days
        self._sheets, self._videos = data_dir / "sheets", data_dir / "videos"
        self._data_dir = data_dir

    async def purge(
        self, *, older_than_days: int | None = None, scope: tuple[Platform, str] | None = None
    ) -> Purged:
        """Remove the files of jobs that ended more than `older_than_days` (default: the
        setting) ago; of one platform's scope only when `scope` is given."""
        days = self.days if older_than_days is None else older_than_days
        now = self._clock()
        before = now - timedelta(days=days)
        platform, scope_id = scope if scope is not None else (None, None)
        keep = await self.kept_paths()
        jobs = files = freed = 0
        seen: set[str] = set()
        while True:
            batch = await self._jobs.ended_unpurged(
                before=before, platform=platform, scope=scope_id, limit=BATCH
            )
            fresh = [job for job in batch if job.id not in seen]
            if not fresh:
                break
            for job in fresh:
                seen.add(job.id)
                paths = [p for p in self.files_of(job) if str(p) not in keep]
                removed, size = await asyncio.to_thread(_remove, paths)
                files, freed = files + removed, freed + size
                jobs += await self._mark(job, now)
        if scope is None:  # files of no job (or of no one team) go in a sweep of all
            removed, size = await self._orphans(before)
            files, freed = files + removed, freed + size
            removed, size = await asyncio.to_thread(_unlinked_cache, self._sheets, before)
            files, freed = files + removed, freed + size
            # `/ltx sheet`'s composed sheets last a day, whatever `days` says.
            old = await asyncio.to_thread(expired_composed, self._data_dir, now)
            removed, size = await asyncio.to_thread(_remove, old)
            files, freed = files + removed, freed + size
        if files:
            log.info("retention removed %d files (%d bytes) of %d jobs", files, freed, jobs)
        return Purged(days, jobs, files, freed)

    @property
    def content_cache(self) -> Path:
        """Where clean sheets are kept by content (hard links of the jobs' sheets)."""
        return self._sheets / "by-content"

    async def sweep(self) -> Purged:
        """The periodic purge of `ltxbot run`, at the configured age, for every scope."""
        return await self.purge()

    async def _orphans(self, before: datetime) -> tuple[int, int]:
        """Old files named for a job the store does not know (a reroll refused after its link
        was made, a crash between writing a file and recording its job)."""
        old = await asyncio.to_thread(_old_files, (self._sheets, self._videos), before)
        known = await self._jobs.many({path.name.split(".")[0] for path in old})
        return await asyncio.to_thread(
            _remove, [p for p in old if p.name.split(".")[0] not in known]
        )

    async def kept_paths(self) -> set[str]:
        """Every file a job that has not ended names: never removed."""
        unfinished = [s for s in JobState if s not in FINAL]
        return {str(p) for job in await self._jobs.in_states(unfinished) for p in self._named(job)}

    def _named(self, job: Job) -> list[Path]:
        paths = [self._videos / f"{job.id}.mp4"]
        if job.sheet_path:
            paths += [Path(job.sheet_path), original_of(Path(job.sheet_path))]
        if job.result is not None and job.result.video_path:
            paths.append(Path(job.result.video_path))
        return paths

    def files_of(self, job: Job) -> list[Path]:
        """The job's files that retention may remove: those under sheets/ and videos/."""
        roots = (self._sheets, self._videos)
        return [p for p in dict.fromkeys(self._named(job)) if p.parent in roots]

    async def _mark(self, job: Job, now: datetime) -> bool:
        """Record the purge; a concurrent writer wins and the next sweep marks it."""
        current: Job | None = job
        for _ in range(3):
            if current is None or current.purged_at is not None:
                return False
            if await self._jobs.replace(current.with_changes(now, purged_at=now)):
                return True
            current = await self._jobs.get(job.id)
        return False


def remove_files(paths: list[Path]) -> tuple[int, int]:
    """Unlink each path (missing ones skipped): how many went, and the bytes that freed."""
    return _remove(paths)


def _remove(paths: list[Path]) -> tuple[int, int]:
    removed = freed = 0
    for path in paths:
        try:
            status = path.lstat()
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
        freed += status.st_size if status.st_nlink == 1 else 0
    return removed, freed


def _old_files(folders: tuple[Path, ...], before: datetime) -> list[Path]:
    oldest = before.timestamp()
    found: list[Path] = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        found += [
            Path(e.path)
            for e in entries
            if e.is_file(follow_symlinks=False)
            and not e.name.startswith(".")  # a download or write in progress
            and _changed(e) < oldest
        ]
    return found


def _changed(entry: os.DirEntry[str]) -> float:
    # A new hard link keeps the file's old mtime but sets its ctime: a reroll's fresh link to
    # an old sheet is not old.
    status = entry.stat(follow_symlinks=False)
    return max(status.st_mtime, status.st_ctime)


def _unlinked_cache(sheets: Path, before: datetime) -> tuple[int, int]:
    """Clean copies kept by content that no job links any more and older than `before`."""
    removed = freed = 0
    oldest = before.timestamp()
    try:
        entries = list(os.scandir(sheets / "by-content"))
    except FileNotFoundError:
        return 0, 0
    for entry in entries:
        status = entry.stat(follow_symlinks=False)
        if entry.is_file() and status.st_nlink == 1 and status.st_mtime < oldest:
            Path(entry.path).unlink(missing_ok=True)
            removed, freed = removed + 1, freed + status.st_size
    return removed, freed
