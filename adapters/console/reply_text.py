"""A platform-neutral Reply as plain terminal text."""

from __future__ import annotations

import re

from bot.model import Reply

_MENTION = re.compile(r"<@([^>\s]+)>")


def render(reply: Reply) -> str:
    lines = [plain(reply.text)]
    lines += [f"  {plain(name)}: {plain(value)}" for name, value in reply.fields]
    return "\n".join(lines)


def plain(text: str) -> str:
    """Chat markup for a terminal: no bold or code marks, `<@alice>` as `@alice`."""
    return _MENTION.sub(r"@\1", text.replace("**", "").replace("`", ""))
