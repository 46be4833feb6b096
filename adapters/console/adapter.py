"""The console adapter: the local user, one place, and a poster that prints."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from adapters.console.poster import ConsolePoster
from adapters.console.reply_text import TERMINAL_CHANNEL
from bot.model import Actor, Place, Platform
from bot.settings import Settings
from commands import Commands

CONSOLE_SCOPE = "local"


def console_actor() -> Actor:
    """Whoever runs the CLI; an admin of their own machine."""
    user = _user_name()
    return Actor(Platform.CONSOLE, CONSOLE_SCOPE, user, user, is_admin=True)


def console_place(out_path: str | None = None) -> Place:
    """The terminal; `out_path` is where a generate's video goes."""
    return Place(Platform.CONSOLE, CONSOLE_SCOPE, TERMINAL_CHANNEL, out_path=out_path)


def _user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "local"


class ConsoleAdapter:
    platform = Platform.CONSOLE

    def __init__(self, settings: Settings, commands: Commands, stream: TextIO | None = None):
        self.settings = settings
        self.commands = commands
        # Held back until the command has printed its reply (`poster.release`).
        self.poster = ConsolePoster(stream or sys.stderr, held=True)

    async def start(self) -> None:
        """Nothing to connect: the CLI drives it."""

    async def close(self) -> None:
        """Stop any live progress line (the cursor comes back)."""
        self.poster.close()
