"""`ltxbot` for the CLI tests, through the fork server in ltxbot_zygote.py (read it first).

Run as `python -S ltxbot_shim.py SOCKET ARGS...`: stdlib only, so it starts in milliseconds. It
sends its args, environment, cwd and descriptors 0, 1, 2 to the zygote, forwards the signals it
gets to the forked command, and exits with the command's exit code (or dies of its signal).
"""

from __future__ import annotations

import array
import json
import os
import signal
import socket
import sys

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
             signal.SIGUSR2, signal.SIGWINCH)  # fmt: skip


def main() -> None:
    path, *args = sys.argv[1:]
    request = json.dumps({"args": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    descriptors = array.array("i", [0, 1, 2])
    first = len(request).to_bytes(4, "big") + request
    conn.sendmsg([first], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, descriptors)])
    answers = conn.makefile("rb")
    pid = int(answers.readline())
    for number in FORWARDED:
        signal.signal(number, lambda got, _frame: os.kill(pid, got))
    how, _, value = answers.readline().decode().partition(" ")
    if how == "signal":
        number = int(value)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        signal.pause()
    sys.exit(int(value) if how == "exit" else 1)


if __name__ == "__main__":
    main()
