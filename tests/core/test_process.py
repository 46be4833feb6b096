"""adapters.app.process: the process-wide settings `ltxbot run` applies at start."""

from __future__ import annotations

import asyncio
import ctypes.util
import platform
import subprocess
import sys

import pytest

from adapters.app.process import limit_malloc_arenas, loop_factory, run


@pytest.mark.skipif(ctypes.util.find_library("c") is None, reason="no C library found")
def test_malloc_arenas_are_capped_where_glibc_runs() -> None:
    # In a fresh interpreter, as at `ltxbot run`'s start: glibc accepts the cap (mallopt
    # answers 1); elsewhere (musl, macOS) the call says it did nothing instead of failing.
    code = "from adapters.app.process import limit_malloc_arenas; print(limit_malloc_arenas())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    glibc = platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == ("True" if glibc else "False")


def test_a_missing_c_library_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert limit_malloc_arenas() is False


def test_the_bot_runs_on_uvloop_where_it_is_installed() -> None:
    async def loop_kind() -> str:
        return type(asyncio.get_running_loop()).__module__

    uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed on this platform")
    assert loop_factory() is uvloop.new_event_loop
    assert run(loop_kind()).startswith("uvloop")


def test_without_uvloop_it_is_asyncios_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import fails, as on Windows
    assert loop_factory() is None
    assert run(asyncio.sleep(0, result="done")) == "done"
