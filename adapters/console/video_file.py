"""Saving a job's MP4 where the terminal asked for it, never over a different file, and never
half of it (a temporary name beside it, then a rename)."""

from __future__ import annotations

import asyncio
import contextlib
import filecmp
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserError


@dataclass(frozen=True, slots=True)
class Saved:
    path: Path
    instead_of: Path | None = None  # the asked-for path, when a different file held it

    def sentence(self) -> str:
        if self.instead_of is None:
            return f"saved {self.path}"
        return f"{self.instead_of} is a different file, kept; saved {self.path} beside it"


async def save_video(source: Path, target: Path, job_id: str, *, overwrite: bool = False) -> Saved:
    """Copy `source` to `target` off the event loop (over it when `overwrite`: `--force`).
    Otherwise a `target` that exists and differs is kept (`generate` refused an existing one
    at the start, so another process wrote it since, or `resume` saves after a while): the
    video goes to `name-JOBID.mp4` beside it (then `name-JOBID-2.mp4`, ...), and says so."""
    try:
        return await asyncio.to_thread(_save, source, target, job_id, overwrite)
    except OSError as error:  # a full disk, a folder made read-only since the start
        raise UserError(
            f"could not save {target} ({error.strerror or error}); the video is at {source}"
        ) from None


def _save(source: Path, target: Path, job_id: str, overwrite: bool) -> Saved:
    if overwrite:
        _write(source, target, job_id)
        return Saved(target)
    for path in _candidates(target, job_id):
        if not path.exists():
            _write(source, path, job_id)
        elif not filecmp.cmp(source, path, shallow=False):
            continue
        return Saved(path, None if path == target else target)
    raise UserError(f"{target} and 99 names beside it hold other files; the video is at {source}")


def _write(source: Path, path: Path, job_id: str) -> None:
    """Copy under a temporary name beside `path`, then rename it into place (os.replace is
    atomic on one file system): a process killed mid-copy never leaves half a video at `path`,
    which `resume` would then take for someone else's file. The name is the job's, so a resumed
    save writes over what a killed one left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{job_id}.part")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _candidates(target: Path, job_id: str) -> list[Path]:
    names = [f"{target.stem}-{job_id}", *(f"{target.stem}-{job_id}-{n}" for n in range(2, 100))]
    return [target, *(target.with_name(name + target.suffix) for name in names)]
