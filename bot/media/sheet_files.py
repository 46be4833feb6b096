"""Reference sheets on disk: taken in on the reply path, sanitised inside the job.

The two halves of a sheet's checks run at two moments. On the reply path (`take_in`) the
attachment is downloaded and passed through `bot.media.intake` (the checks that need no pixel
decode) and kept on disk as it came, beside the path where the clean PNG will be; its bytes are
dropped at once. The command prices the job from the header, holds and answers without waiting
for a decode. Inside the job (`ready_sheet`, before the upload) `bot.media.sanitise` turns the
kept original into that PNG, which replaces it. Both halves go by the hash of the bytes sent:
a sheet sent again once it is clean (a team's usual reference) is linked clean at intake, with
no parse, no copy kept and no decode; one content is cleaned once, however many jobs share it.

Every stage is bounded, so a burst of commands neither holds every sheet in memory at once
nor puts a decoder on every core: at most `DOWNLOADS_AT_ONCE` attachments and
`UPLOADS_AT_ONCE` clean PNGs per event loop are in memory, and decodes run in a pool of one
thread fewer than the CPUs, which leaves a core to the event loop that acks Discord and Slack.
The reply path never waits for that pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from bot.errors import GenerationFailed, InvalidSheet
from bot.media.intake import (
    DEFAULT_MAX_BYTES,
    SheetHeader,
    check_bytes,
    check_sheet,
    read_attachment,
)
from bot.media.sanitise import sanitise_sheet
from bot.model import Attachment

DOWNLOADS_AT_ONCE = 8
UPLOADS_AT_ONCE = 16
ORIGINAL_SUFFIX = ".original"
HEADERS_KEPT = 1024  # headers of sheets checked lately, by the hash of their bytes
log = logging.getLogger(__name__)
GONE = "The reference sheet of this job is gone from the bot's disk; run generate again."

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)
_waiting: weakref.WeakKeyDictionary[asyncio.Semaphore, int] = weakref.WeakKeyDictionary()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_checked: OrderedDict[str, SheetHeader] = OrderedDict()  # by sha256 of the bytes sent
_checked_lock = threading.Lock()
# One sheet is cleaned once even when several decode threads are handed it at once: a lock
# per hash, from a fixed set (two hashes may share one; they then only wait for each other).
_cleaning = [threading.Lock() for _ in range(64)]


def decoders() -> int:
    """Sheets decoded at once: one fewer than the CPUs this process may use, at least one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def clean_by_content(sheets_dir: Path, digest: str) -> Path:
    """Where the clean PNG of the bytes hashing to `digest` is kept, for every job sending them."""
    return sheets_dir / "by-content" / f"{digest}.png"


def original_of(sheet_path: Path) -> Path:
    """Where the sheet as the user sent it waits for its sanitise."""
    return sheet_path.with_suffix(ORIGINAL_SUFFIX)


def sheet_available(sheet_path: Path) -> bool:
    """The job's sheet exists, sanitised or still waiting to be (blocking: call in a thread)."""
    return sheet_path.exists() or original_of(sheet_path).exists()


def share_sheet(source: Path, target: Path) -> bool:
    """Give a reroll its own link to its parent's sheet (clean or as sent), so each job owns
    the files retention removes and a shared sheet stays while any job keeps it; False when
    the parent's sheet is gone. Blocking: call in a thread."""
    clean, sent = (source, target), (original_of(source), original_of(target))
    for have, want in (clean, sent, clean):  # the parent may finish its sanitise meanwhile
        try:
            link_or_copy(have, want)
            return True
        except FileNotFoundError:
            continue
    return False


async def take_in(
    attachment: Attachment, sheet_path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> SheetHeader:
    """Download, check without decoding and keep the original for `sheet_path`'s job.

    Bytes already seen and cleaned (a team's usual sheet) are neither parsed nor written again:
    the job gets a link to their clean PNG at once and its sanitise has nothing to do.
    Raises `InvalidSheet` (nothing is kept then). The reply path calls this before any hold;
    the gate is FIFO, so a burst's sheets are read in the order the commands arrived, and a
    command waiting for its turn holds no bytes.
    """
    gate = _gate("downloads", DOWNLOADS_AT_ONCE)
    _waiting[gate] = _waiting.get(gate, 0) + 1
    try:
        await gate.acquire()
    finally:
        _waiting[gate] -= 1
    try:
        data = await read_attachment(attachment, max_bytes=max_bytes)
        # The default executor, not the decode pool: a reply never queues behind decodes.
        return await asyncio.to_thread(_check_and_keep, data, sheet_path, max_bytes)
    finally:
        gate.release()


def downloads_waiting() -> int:
    """Commands of this event loop waiting for their turn to read a sheet (tests, the bench)."""
    gates = _gates.get(asyncio.get_running_loop(), {})
    return _waiting.get(gates["downloads"], 0) if "downloads" in gates else 0


async def upload_sheet(sheet_path: Path, upload: Callable[[bytes], Awaitable[str]]) -> str:
    """Hand the job's clean PNG to `upload` (sanitising it first if needed); returns its URL.

    The PNG is read only for its upload, and at most `UPLOADS_AT_ONCE` per event loop are
    in memory at once, however many jobs start together. A sheet already clean (linked at
    intake, or a reroll's) is read at once, never queued behind the decode pool.
    """
    async with _gate("uploads", UPLOADS_AT_ONCE):
        data = await asyncio.to_thread(_clean_bytes, sheet_path)
        if data is not None:
            return await upload(data)
    await ready_sheet(sheet_path)
    async with _gate("uploads", UPLOADS_AT_ONCE):
        data = await asyncio.to_thread(sheet_path.read_bytes)
        return await upload(data)


def _clean_bytes(sheet_path: Path) -> bytes | None:
    try:
        return sheet_path.read_bytes()
    except FileNotFoundError:
        return None  # still the original as sent: sanitise first


async def ready_sheet(sheet_path: Path) -> Path:
    """The job's clean PNG, sanitised now from the kept original if that has not happened.

    Raises `GenerationFailed` with the sanitiser's sentence when the full decode refuses what
    the header checks let through, so the runner fails the job and releases its hold.
    """
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(_decode_pool(), _sanitise_file, sheet_path)
    except InvalidSheet as refused:
        raise GenerationFailed(str(refused)) from refused
    return sheet_path


def _check_and_keep(data: bytes, sheet_path: Path, max_bytes: int) -> SheetHeader:
    digest = hashlib.sha256(data).hexdigest()
    with _checked_lock:
        known = _checked.get(digest)
    if known is not None:
        check_bytes(data, max_bytes)  # the limit may have changed since
        try:
            link_or_copy(clean_by_content(sheet_path.parent, digest), sheet_path)
            return known
        except FileNotFoundError:
            pass  # not cleaned yet (or refused, or removed by retention): as a new sheet
    header = check_sheet(data, max_bytes=max_bytes)
    write_atomically(original_of(sheet_path), data)
    with _checked_lock:
        _checked[digest] = header
        _checked.move_to_end(digest)
        while len(_checked) > HEADERS_KEPT:
            _checked.popitem(last=False)
    return header


def _sanitise_file(sheet_path: Path) -> None:
    if sheet_path.exists():
        return  # done by an earlier try, or a reroll sharing this sheet
    original = original_of(sheet_path)
    try:
        data = original.read_bytes()
    except FileNotFoundError:
        if sheet_path.exists():  # another job sharing it finished first
            return
        # Most likely a job taken over from a replica whose disk this one cannot see.
        log.warning(
            "sheet %s is not on this disk: give every replica one shared LTXBOT_DATA_DIR",
            sheet_path.name,
        )
        raise GenerationFailed(GONE) from None
    # The same sheet sent again (a team's usual reference) is cleaned once: the clean PNG is
    # kept by the hash of the bytes sent and linked for every later job.
    digest = hashlib.sha256(data).hexdigest()
    cached = clean_by_content(sheet_path.parent, digest)
    with _cleaning[int(digest[:8], 16) % len(_cleaning)]:
        if not cached.exists():
            # The size was checked when it arrived (against the setting of that time).
            write_atomically(cached, sanitise_sheet(data, max_bytes=len(data)).data)
    del data
    link_or_copy(cached, sheet_path)
    original.unlink(missing_ok=True)


def link_or_copy(source: Path, target: Path) -> None:
    """`target` becomes a hard link to `source` (a copy where links fail), atomically."""
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        os.link(source, partial)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(source, partial)
    os.replace(partial, target)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all."""
    # Readers see no file or the whole file: a crash mid-write leaves only a stray temp file.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _gate(name: str, size: int) -> asyncio.Semaphore:
    # One per event loop: asyncio primitives belong to the loop they first wait in.
    gates = _gates.setdefault(asyncio.get_running_loop(), {})
    if name not in gates:
        gates[name] = asyncio.Semaphore(size)
    return gates[name]


T = TypeVar("T")


async def in_decode_pool(work: Callable[[], T]) -> T:
    """Run a decode (a saved sheet's sanitise) in the bounded decode pool."""
    return await asyncio.get_running_loop().run_in_executor(_decode_pool(), work)


def _decode_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(decoders(), thread_name_prefix="ltxbot-sheet")
        return _pool


def shutdown_decode_pool() -> None:
    """Let the decode threads finish what they hold and end them (the app's exit calls this);
    a later decode starts a fresh pool."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)
