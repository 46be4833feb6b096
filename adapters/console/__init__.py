"""The terminal as a platform: the CLI's generate/estimate/budget run through it.

Like errbot's text backend, it keeps the boundary honest: the console goes through the same
commands, ledger and runner as Discord and Slack.
"""

from adapters.console.adapter import ConsoleAdapter, console_actor, console_place
from adapters.console.poster import ConsolePoster

__all__ = ["ConsoleAdapter", "ConsolePoster", "console_actor", "console_place"]
