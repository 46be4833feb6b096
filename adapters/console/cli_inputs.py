"""For `adapters.console.cli`: what a command line needs from the machine, checked before the
event loop starts and before anything is held: the prompt file, the `--out` path, the CA file.

Each problem is a UserError or ConfigurationError with one sentence naming the path or the
variable, so the terminal prints one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.errors import ConfigurationError, UserError

STDIN = "-"
# Commands that reach fal or a chat platform over TLS: a missing CA file stops them.
NETWORK = {"generate", "final", "cancel", "resume", "run", "admin"}


def prepare(args: argparse.Namespace) -> None:
    """Read `--prompt-file` into `args.prompt`; refuse an existing `--out` without `--force`;
    `args.out_path`: `--out` made absolute (the job stores it, and `ltxbot resume` may run in
    another directory)."""
    if args.command in NETWORK:
        check_ca_file()
    if getattr(args, "prompt_file", None) is not None:
        args.prompt = read_prompt(args.prompt_file)
    out: Path | None = getattr(args, "out", None)
    if out is not None:
        check_out(out, force=args.force)
        args.out_path = str(out.absolute())


def read_prompt(path: Path) -> str:
    """The prompt in a UTF-8 file, or on stdin for `-` (surrounding blank lines dropped)."""
    try:
        text = sys.stdin.read() if str(path) == STDIN else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"--prompt-file {path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"--prompt-file {path} is a directory, not a file") from None
    except PermissionError:
        raise UserError(f"--prompt-file {path}: permission denied") from None
    except UnicodeDecodeError:
        raise UserError(f"--prompt-file {path} is not UTF-8 text") from None
    return text.strip()


def check_out(out: Path, *, force: bool) -> None:
    if out.is_dir():
        raise UserError(f"--out {out} is a directory; give a file name")
    if out.exists() and not force:
        raise UserError(f"{out} exists; pass --force to overwrite")


def check_ca_file() -> None:
    """SSL_CERT_FILE pointing nowhere fails every TLS call deep inside a client: say so first."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = os.environ.get(name)
        if value and not Path(value).exists():
            raise ConfigurationError(
                f"{name} names {value}, which does not exist; unset it or point it at a CA bundle"
            )
