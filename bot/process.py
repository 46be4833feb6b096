"""Process-wide settings of the long-running bot, applied once at start (`ltxbot run`)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas, as MALLOC_ARENA_MAX does; False where there is no glibc.

    glibc gives each thread that allocates an arena of its own (up to 8 per core). The bot's
    worker threads (SQLite, image checks, probes, file writes) each grew one, and their unused
    pages stay resident: at 500 jobs in flight, 150 KiB per job instead of 100. Called before
    any thread starts, so every arena after the main one is shared."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return False
