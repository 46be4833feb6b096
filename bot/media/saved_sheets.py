"""A team's saved reference sheets on disk: one clean PNG per picture, named by its hash.

A saved sheet passes the checks of a generate's sheet (`bot.media.intake` before any decode,
`bot.media.sanitise` for the full decode and the fresh PNG) and is kept as
`<data dir>/saved-sheets/<sha256 of the clean PNG>.png`, so two names (or two teams) saving
one picture share one file. The folder is not under `sheets/`, so retention never looks at
it; a job made from a saved sheet gets its own hard link (as a reroll does), which retention
may remove without touching the saved copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.media.intake import DEFAULT_MAX_BYTES, check_sheet, read_attachment
from bot.media.png_text import prompt_prefix_of
from bot.media.sanitise import sanitise_sheet
from bot.media.sheet_files import in_decode_pool, link_or_copy, write_atomically
from bot.model import Attachment

SAVED_DIR = "saved-sheets"


@dataclass(frozen=True, slots=True)
class KeptSheet:
    """The clean PNG a saved sheet names."""

    sha256: str
    width: int
    height: int
    prompt_prefix: str | None  # what a composed sheet's PNG carried (`bot.media.png_text`)
    png: bytes = field(repr=False)  # kept until the name is stored: see `ensure_kept`


def saved_dir(data_dir: Path) -> Path:
    return data_dir / SAVED_DIR


def saved_path(data_dir: Path, sha256: str) -> Path:
    return saved_dir(data_dir) / f"{sha256}.png"


async def keep_sheet(
    attachment: Attachment, data_dir: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> KeptSheet:
    """Check and clean the sheet, and keep its PNG by content (once, however often saved).
    Raises `InvalidSheet` with the same sentences a generate's sheet gets."""
    data = await read_attachment(attachment, max_bytes=max_bytes)

    def work() -> KeptSheet:
        check_sheet(data, max_bytes=max_bytes)  # the cheap checks first, as on the reply path
        clean = sanitise_sheet(data, max_bytes=max_bytes)
        sha = hashlib.sha256(clean.data).hexdigest()
        path = saved_path(data_dir, sha)
        if not path.exists():
            write_atomically(path, clean.data)
        return KeptSheet(sha, clean.width, clean.height, prompt_prefix_of(data), clean.data)

    return await in_decode_pool(work)


async def link_saved(data_dir: Path, sha256: str, sheet_path: Path) -> bool:
    """Give a job its own link to a saved picture at `sheet_path` (its clean sheet: no
    sanitise runs again); False when the picture is gone from disk."""

    def link() -> bool:
        sheet_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            link_or_copy(saved_path(data_dir, sha256), sheet_path)
        except FileNotFoundError:
            return False
        return True

    return await asyncio.to_thread(link)


async def ensure_kept(data_dir: Path, kept: KeptSheet) -> None:
    """Write the picture again if a `forget_picture` took it before its new name was stored."""
    path = saved_path(data_dir, kept.sha256)

    def ensure() -> None:
        if not path.exists():
            write_atomically(path, kept.png)

    await asyncio.to_thread(ensure)


async def forget_picture(
    data_dir: Path, sha256: str, still_used: Callable[[], Awaitable[bool]]
) -> None:
    """Remove a picture no name keeps any more (jobs made from it keep their own links).

    Set aside first, then asked again: a save of the same picture racing this one (another
    task, or the terminal beside the server) either sees the name stored and the file put
    back, or stores its name and writes the file again (`ensure_kept`). No lock is needed.
    """
    path = saved_path(data_dir, sha256)
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.forgetting")
    try:
        await asyncio.to_thread(os.rename, path, aside)
    except FileNotFoundError:
        return
    if await still_used():
        await asyncio.to_thread(os.replace, aside, path)
    else:
        await asyncio.to_thread(aside.unlink, missing_ok=True)
