"""Refusing, in one line and before anything is held, folders the bot could not write to.

In a container these are the usual first mistakes: a `/data` volume mounted read-only (or
owned by another user), an `--out` into a read-only mount. Found after the video is made,
they would end in a traceback with the video somewhere the user does not know.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bot.errors import ConfigurationError, UserError


def require_writable_data_dir(data_dir: Path) -> None:
    """Create `data_dir` if needed and write a scratch file in it, or say why not."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"setting LTXBOT_DATA_DIR: cannot write to {data_dir.absolute()} "
            f"({error.strerror or error}); the database, sheets and videos are kept there"
        ) from None


def require_writable_out(out: Path) -> None:
    """The folder `out` goes into (the nearest one that exists) accepts new files."""
    folder = out.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    # access() answers for this process's user and sees read-only mounts (EROFS).
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"--out {out}: cannot write into {folder}; nothing was held")
