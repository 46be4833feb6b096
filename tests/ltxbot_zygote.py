"""A fork server for the CLI tests: `ltxbot` without paying Python's start-up for each run.

Every terminal test used to start the real `ltxbot` script, and each start imported about 1,000
modules (SQLAlchemy, Alembic, PyAV, pydantic, httpx...): around 2 s of CPU per command on this
machine, most of the CLI tests' time. This process imports all that once, then forks a child
per command. The child is a real separate process: its own environment, working directory,
stdin/stdout/stderr (the caller's own descriptors, passed over a Unix socket, so a pty stays a
pty), its own event loop, and `adapters.console.cli.main` run exactly as the console script runs
it, exit code and uncaught exceptions included.

The caller is `ltxbot_shim.py`, a stdlib-only script that starts in milliseconds: it hands its
argv, environment, cwd and descriptors over, forwards the signals it gets to the child, and
exits as the child did (a signal death included). If the shim is SIGKILLed, the child notices
its socket closing and SIGKILLs itself.

Protocol, one connection per command: the shim sends a 4-byte big-endian length and that much
JSON (`args`, `env`, `cwd`), descriptors 0, 1, 2 as SCM_RIGHTS with the first bytes; the zygote
answers `<child pid>\n`, then `exit <code>\n` or `signal <number>\n` when the child has ended.
Started by tests/ltxbot_fast.py; it ends when its stdin (a pipe from the pytest worker) closes.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import selectors
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

# What `ltxbot` imports on its way through any command: imported here once, before any fork.
PRELOAD = (
    "adapters.console.cli",
    "adapters.console",
    "adapters.app.core",
    "adapters.app.metrics",
    "storage",
    "storage.migrate",
    "sqlalchemy.ext.asyncio",
    "aiosqlite",
    "asyncpg",
    "alembic.command",
    "alembic.config",
    "fal_client",
    "bot.media.video",
    "matplotlib.pyplot",
    "uvloop",
)


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    fds = array.array("i")
    data = b""
    room = socket.CMSG_SPACE(3 * fds.itemsize)
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk, ancillary, _, _ = conn.recvmsg(1 << 16, room)
        if not chunk:
            raise ConnectionError("the shim went away before its request was complete")
        data += chunk
        for level, kind, raw in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(raw[: len(raw) - (len(raw) % fds.itemsize)])
    return json.loads(data[4:]), list(fds)


def _die_with_the_shim(conn: socket.socket) -> None:
    """The shim SIGKILLed (its end of the socket closed): this child dies the same way."""
    with contextlib.suppress(OSError):
        while conn.recv(1):
            pass
    os.kill(os.getpid(), signal.SIGKILL)


def _become_the_command(
    conn: socket.socket, fds: list[int], request: dict[str, Any], zygotes: list[Any]
) -> list[str]:
    """In the forked child: take on the shim's descriptors, environment and directory."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for held in zygotes:  # the listener, the other commands' sockets, the wake-up pipe
        held.close() if isinstance(held, socket.socket) else os.close(held)
    for target, fd in enumerate(fds):  # over the zygote's own 0, 1, 2
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # The same stream objects, now on the shim's descriptors: buffered as a fresh interpreter
    # would buffer them there (line by line on a terminal).
    sys.stdout.reconfigure(line_buffering=os.isatty(1))
    threading.Thread(target=_die_with_the_shim, args=(conn,), daemon=True).start()
    return list(request["args"])


def serve(path: str) -> list[str]:
    """Answer commands until stdin closes; returns only in a forked child, with its argv."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _ in selector.select():
            if key.fileobj is sys.stdin:
                if not os.read(0, 4096):
                    raise SystemExit(0)
            elif key.fileobj == wake_r:
                os.read(wake_r, 4096)
                _reap(children)
            else:
                conn, _ = listener.accept()
                try:
                    request, fds = _receive(conn)
                except (OSError, ValueError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    mine: list[Any] = [listener, wake_r, wake_w, *children.values()]
                    selector.close()
                    return _become_the_command(conn, fds, request, mine)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                with contextlib.suppress(OSError):
                    conn.sendall(f"{pid}\n".encode())
        _reap(children)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is None:
            continue
        if os.WIFSIGNALED(status):
            told = f"signal {os.WTERMSIG(status)}\n"
        else:
            told = f"exit {os.WEXITSTATUS(status)}\n"
        with contextlib.suppress(OSError):
            conn.sendall(told.encode())
        conn.close()


if __name__ == "__main__":
    # Run as a script, its own folder (tests/, where tests/storage would hide the `storage`
    # package) comes first on sys.path: the project's root instead, as for pytest.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    _preload()
    argv = serve(sys.argv[1])
    # Only a forked child gets here: it is now `ltxbot argv...`, as the console script runs it.
    from adapters.console.cli import main

    sys.argv = [str(Path(sys.executable).with_name("ltxbot")), *argv]
    sys.exit(main())
