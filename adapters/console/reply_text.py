"""A platform-neutral Reply as plain terminal text."""

from __future__ import annotations

import re

from bot.model import Reply

TERMINAL_CHANNEL = "terminal"  # the console place's channel id

_MENTION = re.compile(r"<@([^>\s]+)>")
_CHANNEL = re.compile(r"<#([^>|\s]+)(?:\|[^>]*)?>")


def render(reply: Reply) -> str:
    lines = [plain(reply.text)]
    lines += [f"  {plain(name)}: {plain(value)}" for name, value in reply.fields]
    return "\n".join(lines)


def plain(text: str) -> str:
    """Chat markup for a terminal: no bold or code marks, `<@alice>` as `@alice`, `<#C1>` as
    `#C1` and the terminal's own channel as "the terminal"."""
    text = _MENTION.sub(r"@\1", text.replace("**", "").replace("`", ""))
    return _CHANNEL.sub(_channel, text)


def _channel(match: re.Match[str]) -> str:
    return "the terminal" if match[1] == TERMINAL_CHANNEL else f"#{match[1]}"
