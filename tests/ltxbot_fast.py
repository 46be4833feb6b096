"""The `ltxbot` command for CLI tests that need a separate process but not a fresh interpreter.

`LTXBOT` is the real console script: the tests of the entry point itself (exit codes of a
broken install, `--help`, `--version`, signals to `ltxbot run`, SIGKILL crash tests) run it.
`ltxbot_command()` is the argv prefix of the same command through one fork server per pytest
worker (tests/ltxbot_zygote.py): a real child process with its own environment, cwd and
descriptors, running `adapters.console.cli.main`, without importing ~1,000 modules each time.
"""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
LTXBOT = str(Path(sys.executable).with_name("ltxbot"))
_lock = threading.Lock()
_command: list[str] = []


def ltxbot_command() -> list[str]:
    """`[python, -S, shim, socket]`: put the ltxbot arguments after it."""
    with _lock:
        if not _command:
            _command.extend(_start_zygote())
        return list(_command)


def _start_zygote() -> list[str]:
    home = tempfile.mkdtemp(prefix="ltxbot-zygote-")
    path = os.path.join(home, "socket")
    zygote = subprocess.Popen(
        [sys.executable, str(HERE / "ltxbot_zygote.py"), path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=HERE.parent,
    )  # fmt: skip
    assert zygote.stdout is not None
    ready, _, _ = select.select([zygote.stdout], [], [], 120)
    line = zygote.stdout.readline() if ready else b""
    if line != b"ready\n":
        zygote.kill()
        raise RuntimeError(f"the ltxbot fork server did not start: {line!r}")

    def stop() -> None:
        assert zygote.stdin is not None
        zygote.stdin.close()  # its end of the pipe closes: it exits
        try:
            zygote.wait(10)
        except subprocess.TimeoutExpired:
            zygote.kill()
        for leftover in (path, home):
            (os.unlink if leftover == path else os.rmdir)(leftover)

    atexit.register(stop)
    return [sys.executable, "-S", str(HERE / "ltxbot_shim.py"), path]
