"""Sheets composed in a chat (`/ltx sheet`), kept by content until their buttons are pressed.

The composed PNG (with its "Reference sheet: ..." sentence inside, `bot.media.png_text`) is
written as `<data dir>/composed-sheets/<sha256>.png`. The buttons under it carry only that
hash, so a press after a restart, or on another replica sharing the data dir, finds the same
file and nothing else needs storing: no database row, no migration. A composed sheet lives a
day (`KEEP`): an older one is refused when used, and the retention sweep removes it.
Composing the same pictures again writes nothing new and starts its day again.

On disk a sheet is named by its hash; people see it named by its labels
(`sheet-chef-knife-kitchen.png`, `sheet_file_name`), and that name without `sheet-` is the
name a Save form suggests.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import struct
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

from bot.media.png_text import prompt_prefix_of
from bot.media.sheet_files import write_atomically
from bot.model import Attachment

COMPOSED_DIR = "composed-sheets"
KEEP = timedelta(days=1)
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_STEM = 40  # a saved sheet's name takes 40 letters, digits, - or _
HEAD_BYTES = 16 * 1024  # the header and the sentence's chunk, well within
_SMALL_WORDS = frozenset(
    {"a", "an", "and", "the", "of", "in", "on", "at", "with", "to", "for", "from", "by", "its"}
)


def readable_stem(prompt_prefix: str | None) -> str:
    """The words of a sheet's sentence as a name ("Reference sheet: a chef, a knife, and a
    kitchen." -> "chef-knife-kitchen"): lower-case ASCII letters and digits joined by "-",
    small words left out, at most `MAX_STEM` characters, cut between words; "composed" when
    no word is left."""
    text = (prompt_prefix or "").removeprefix("Reference sheet:")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    stem = ""
    for word in re.findall(r"[a-z0-9]+", ascii_text):
        longer = f"{stem}-{word}" if stem else word[:MAX_STEM]
        if word in _SMALL_WORDS:
            continue
        if len(longer) > MAX_STEM:
            break
        stem = longer
    return stem or "composed"


def sheet_file_name(prompt_prefix: str | None) -> str:
    """The file name people see for a composed sheet: `sheet-<its words>.png`."""
    return f"sheet-{readable_stem(prompt_prefix)}.png"


def png_size(data: bytes) -> tuple[int, int] | None:
    """A PNG's width and height from its header (None: not a PNG)."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


async def _kept(
    data_dir: Path, sha256: str, *, now: datetime | None = None, limit: int = -1
) -> bytes | None:
    """A kept sheet's bytes (its first `limit`, or all); None when it is unknown or, `now`
    given, older than a day."""
    try:
        path = composed_path(data_dir, sha256)
    except ValueError:
        return None

    def load() -> bytes | None:
        try:
            with path.open("rb") as file:
                age = None if now is None else now.timestamp() - os.fstat(file.fileno()).st_mtime
                return None if age is not None and age > KEEP.total_seconds() else file.read(limit)
        except FileNotFoundError:
            return None

    return await asyncio.to_thread(load)


async def suggested_name(data_dir: Path, sha256: str) -> str | None:
    """The name a kept sheet's Save form suggests (its sentence's words); None when gone."""
    head = await _kept(data_dir, sha256, limit=HEAD_BYTES)  # however old: only its words
    return None if head is None else readable_stem(prompt_prefix_of(head))


def composed_dir(data_dir: Path) -> Path:
    return data_dir / COMPOSED_DIR


def composed_path(data_dir: Path, sha256: str) -> Path:
    if not SHA256.fullmatch(sha256):  # a button's value is anyone's to forge: never a path
        raise ValueError("not a sheet id")
    return composed_dir(data_dir) / f"{sha256}.png"


async def keep_composed(data_dir: Path, png: bytes, now: datetime) -> tuple[str, Path]:
    """Keep the composed PNG by its hash; its day starts `now` (again, if it was kept)."""
    sha = hashlib.sha256(png).hexdigest()
    path = composed_path(data_dir, sha)

    def keep() -> None:
        if not path.exists():
            write_atomically(path, png)
        # The injected clock's time, which expiry and the retention sweep compare with.
        os.utime(path, (now.timestamp(), now.timestamp()))

    await asyncio.to_thread(keep)
    return sha, path


async def composed_attachment(data_dir: Path, sha256: str, now: datetime) -> Attachment | None:
    """The kept sheet as a generate takes a sheet (with its sentence), or None when it is
    unknown or older than a day."""
    data = await _kept(data_dir, sha256, now=now)
    if data is None:
        return None

    async def read(limit: int) -> bytes:
        return data[: limit + 1]

    prefix = prompt_prefix_of(data)
    return Attachment(sheet_file_name(prefix), "image/png", len(data), read, prefix)


def expired_composed(data_dir: Path, now: datetime) -> list[Path]:
    """Composed sheets past their day (blocking: the retention sweep runs it in a thread).
    By mtime alone, which `keep_composed` sets from the injected clock."""
    oldest = (now - KEEP).timestamp()
    try:
        entries = list(os.scandir(composed_dir(data_dir)))
    except FileNotFoundError:
        return []
    return [
        Path(e.path)
        for e in entries
        if e.is_file(follow_symlinks=False)
        and not e.name.startswith(".")  # a write in progress
        and e.stat(follow_symlinks=False).st_mtime < oldest
    ]
