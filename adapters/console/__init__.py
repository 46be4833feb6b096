"""The terminal as a platform: the CLI's generate/estimate/budget run through it.

Like errbot's text backend, it keeps the boundary honest: the console goes through the same
commands, ledger and runner as Discord and Slack.

The names below are imported on first use (PEP 562): `ltxbot --help`, `estimate` or a usage
error need none of the adapter's machinery (rich, the commands, PIL), and every
`adapters.console.*` module imports this package first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.console.adapter import ConsoleAdapter, console_actor, console_place
    from adapters.console.poster import ConsolePoster

__all__ = ["ConsoleAdapter", "ConsolePoster", "console_actor", "console_place"]
_HOMES = {
    "ConsoleAdapter": "adapters.console.adapter",
    "console_actor": "adapters.console.adapter",
    "console_place": "adapters.console.adapter",
    "ConsolePoster": "adapters.console.poster",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
